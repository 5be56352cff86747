"""Constrained judge scoring: hand-computed scores from fixed logits, and the cached batched path
equals a naive one-row-at-a-time recomputation on a tiny real model."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from polyalign.judge.prompt import judge_prompt_ids, judge_user_message
from polyalign.judge.score import judge_rows, score_batch, score_segments
from polyalign.metrics.judge import DIMENSIONS

from .conftest import RECORD


class FixedLogits(torch.nn.Module):
    """Every position gets the same logits: scores 1..5 at ids 3..7 with weights 1, 2, 3, 4, 1."""

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.config = SimpleNamespace(max_position_embeddings=1000)
        logits = torch.zeros(10)
        logits[3:8] = torch.log(torch.tensor([1.0, 2.0, 3.0, 4.0, 1.0]))
        self.logits = logits

    def forward(self, input_ids, attention_mask, position_ids, cache, use_cache, logits_to_keep):
        b, t = input_ids.shape
        return SimpleNamespace(logits=self.logits.expand(b, t, 10), cache=None)


def test_fixed_logits_give_hand_computed_scores():
    segments = [([1], [3, 4, 5, 6, 7])] + [([2, 9], [3, 4, 5, 6, 7])] * (len(DIMENSIONS) - 1)
    out = score_batch(FixedLogits(), segments, [[8, 8], [8]], pad_id=0)
    # probabilities over the five scores: (1, 2, 3, 4, 1) / 11
    assert (out["chosen"] == 4).all()
    assert np.allclose(out["expected"], 35 / 11)
    # unconstrained mass: the five score tokens hold 11 of 11 + 5 (five other ids with logit 0)
    assert np.allclose(out["score_mass"], 11 / 16)


def test_score_segments_are_single_tokens_after_a_shared_prefix(judge_model):
    _, tok = judge_model
    segments = score_segments(tok)
    assert len(segments) == len(DIMENSIONS)
    for k, (prefix, ids) in enumerate(segments):
        text = tok.decode(prefix + [ids[2]])
        assert text.endswith(f"{DIMENSIONS[k]}: 3")
        assert len(set(ids)) == 5


def _naive_scores(model, segments, prompt):
    seq = list(prompt) + segments[0][0]
    chosen, expected = [], []
    for k, (_, score_ids) in enumerate(segments):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([seq])).logits[0, -1].double()
        allowed = torch.log_softmax(logits, -1)[score_ids]
        p = torch.softmax(allowed, -1)
        pick = int(allowed.argmax())
        chosen.append(pick + 1)
        expected.append(float((p * torch.arange(1, 6, dtype=torch.float64)).sum()))
        if k + 1 < len(segments):
            seq += [score_ids[pick]] + segments[k + 1][0]
    return chosen, expected


def test_cached_batched_scoring_equals_naive_recomputation(judge_model):
    model, tok = judge_model
    segments = score_segments(tok)
    gen = torch.Generator().manual_seed(0)
    prompts = [
        torch.randint(7, len(tok), (n,), generator=gen).tolist() for n in (30, 45, 12)
    ]  # unequal: padding
    out = score_batch(model, segments, prompts, tok.pad_token_id)
    for i, p in enumerate(prompts):
        chosen, expected = _naive_scores(model, segments, p)
        assert out["chosen"][i].tolist() == chosen
        assert np.allclose(out["expected"][i], expected, atol=1e-4)


def test_over_length_prompts_are_counted_not_truncated(judge_model):
    model, tok = judge_model
    cands = [
        {"id": RECORD["id"], "system": "sft", "answer": "short"},
        {"id": RECORD["id"], "system": "dpo", "answer": "word " * 400},
    ]
    n_short = len(judge_prompt_ids(tok, RECORD, "short"))
    rows, counts = judge_rows(model, tok, [RECORD], cands, batch_size=4, max_prompt_tokens=n_short + 5)
    assert counts["scored"] == 1 and counts["over_length"] == 1
    assert rows[1]["over_length"] and "scores" not in rows[1]
    assert set(rows[0]["scores"]) == set(DIMENSIONS)
    assert all(1 <= v <= 5 for v in rows[0]["scores"].values())


def test_prompt_carries_every_block_and_the_metadata():
    text = judge_user_message(
        {**RECORD, "context": "A passage.", "history": [{"role": "user", "text": "Hi"}]}, "Cand text"
    )
    for needle in [
        "[history]\nuser: Hi",
        "[context]\nA passage.",
        "[instruction]\nHow are you?",
        "[reference]\nFine, thanks.",
        "[candidate]\nCand text",
        "language=en",
        "track=single",
        "family=dialogue",
        "situation=open_chat",
        "length_bin=short",
        "wrong language",
        "exemplar",
        "correctness",
    ]:
        assert needle in text, needle
    for dim in DIMENSIONS:
        assert f"{dim}:" in text
    assert math.isclose(text.count("  5 = "), len(DIMENSIONS))


def test_record_without_metadata_is_a_named_error():
    bad = dict(RECORD)
    del bad["length_bin"]
    with pytest.raises(ValueError, match="length_bin"):
        judge_user_message(bad, "x")
