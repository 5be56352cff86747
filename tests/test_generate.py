import json
from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch
from transformers import LlamaConfig

from polyalign.config import fill_defaults
from polyalign.generation.decoding import generate_unbatched
from polyalign.generation.generate import generate_file, generate_ids, generate_records
from polyalign.models import save_model
from polyalign.models.tokenizer_report import answer_token_lengths, check_max_new_tokens
from polyalign.prompts import LengthSampler, encode_prompt, render_prompt
from tests.models.micro import (  # noqa: F401 (fixture)
    GREEDY,
    PROMPT,
    micro_model,
    micro_records,
    micro_tokenizer,
    one_thread,
)

SAMPLE = replace(GREEDY, do_sample=True, temperature=1.0, top_p=0.9)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def micro():
    tok = micro_tokenizer()
    return micro_model(tok), tok


def test_batched_equals_unbatched_greedy(micro):
    model, tok = micro
    records = micro_records()
    prompts = [encode_prompt(render_prompt(r, tok, max_prompt_tokens=80), tok) for r in records]
    assert len({len(p) for p in prompts}) > 3  # batches really mix lengths (left padding)
    batched = generate_ids(model, prompts, [0] * len(prompts), GREEDY, tok.pad_token_id, [tok.eos_token_id])
    single = generate_unbatched(model, tok, prompts, GREEDY)
    for (ids, reason), ref in zip(batched, single):
        expect = ref[: ref.index(tok.eos_token_id)] if tok.eos_token_id in ref else ref
        assert ids == expect
        assert reason == ("eos" if tok.eos_token_id in ref else "length")


def test_sampling_is_seeded_per_row_not_per_batch(micro):
    model, tok = micro
    rows_a = generate_records(model, tok, micro_records(), "sft", SAMPLE, progress=False, **PROMPT)
    rows_b = generate_records(model, tok, micro_records(), "sft", SAMPLE, progress=False, **PROMPT)
    assert rows_a == rows_b
    one = generate_records(
        model, tok, micro_records()[::-1], "sft", replace(SAMPLE, batch_size=1), progress=False, **PROMPT
    )
    assert [r["output"] for r in one[::-1]] == [r["output"] for r in rows_a]
    other_seed = generate_records(
        model, tok, micro_records(), "sft", replace(SAMPLE, seed=1), progress=False, **PROMPT
    )
    assert [r["output"] for r in other_seed] != [r["output"] for r in rows_a]


def test_num_samples(micro):
    model, tok = micro
    rows = generate_records(
        model, tok, micro_records()[:3], "sft", replace(SAMPLE, num_samples=3), progress=False, **PROMPT
    )
    assert [(r["id"], r["sample"]) for r in rows] == [
        (r["id"], j) for r in micro_records()[:3] for j in range(3)
    ]
    assert len({r["output"] for r in rows[:3]}) > 1


class ScriptedModel(torch.nn.Module):
    """Stands in for a causal LM: records its inputs and returns scripted continuations. It
    keeps each row's tokens in the KV cache it is given (as keys), so it follows its rows when
    finished ones leave the batch, as a real model's cache does."""

    def __init__(self, continuations, vocab=32):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.calls, self.vocab = [], vocab
        self.next = {(*p, *c[:k]): c[k] for p, c in continuations.items() for k in range(len(c))}
        self.config = LlamaConfig(num_hidden_layers=1, max_position_embeddings=1000)

    def forward(self, input_ids, attention_mask, position_ids, cache, use_cache, logits_to_keep):
        self.calls.append((input_ids.clone(), attention_mask.clone()))
        seen, _ = cache.update(input_ids[:, None, :, None].float(), input_ids[:, None, :, None].float(), 0)
        logits = torch.zeros(input_ids.shape[0], 1, self.vocab)
        for row, (tokens, mask) in enumerate(zip(seen[:, 0, :, 0].long(), attention_mask)):
            logits[row, 0, self.next.get(tuple(tokens[mask.bool()].tolist()), 0)] = 1.0
        return SimpleNamespace(logits=logits)


def test_left_padding_order_and_finish_reasons():
    eos = 2
    prompts = [[1, 5], [1, 5, 6, 7], [1, 8, 9]]
    model = ScriptedModel({(1, 5): [10, eos], (1, 5, 6, 7): [11, 12, 13], (1, 8, 9): [14, eos]})
    out = generate_ids(model, prompts, [0, 0, 0], replace(GREEDY, max_new_tokens=3), pad_id=0, eos_ids=[eos])
    assert out == [([10], "eos"), ([11, 12, 13], "length"), ([14], "eos")]
    (ids, mask), *steps = model.calls  # one batch, longest first, padded on the left
    assert ids.tolist() == [[1, 5, 6, 7], [0, 1, 8, 9], [0, 0, 1, 5]]
    assert mask.tolist() == [[1, 1, 1, 1], [0, 1, 1, 1], [0, 0, 1, 1]]
    # the two rows that emit eos at the second step leave the batch: only one row decodes the third
    assert [step_ids.tolist() for step_ids, _ in steps] == [[[11], [14], [10]], [[12]]]


def test_cot_answer_extraction(monkeypatch):
    tok = micro_tokenizer()
    text = "Think about it.\nAnswer: Pretty good."
    ids = tok(text, add_special_tokens=False)["input_ids"]
    monkeypatch.setattr(
        "polyalign.generation.generate.decode_part",
        lambda m, p, s, b, positions, *a, **k: [(ids, "eos")] * len(positions),
    )
    model = micro_model(tok)
    (row,) = generate_records(
        model, tok, micro_records()[:1], "cot", GREEDY, progress=False, max_prompt_tokens=110
    )
    assert row["output"] == text and row["answer"] == "Pretty good." and row["answer_found"]
    assert "Answer:" in row["prompt"] and row["style"] == "cot"


def test_cot_gets_extra_tokens_and_a_missing_answer_line_is_an_empty_answer(monkeypatch):
    tok = micro_tokenizer()
    budgets = []

    def fake(model, prompts, seeds, row_budgets, positions, *a, **k):
        budgets.extend(row_budgets[i] for i in positions)
        return [
            (tok("Let me think about the weather", add_special_tokens=False)["input_ids"], "length")
        ] * len(positions)

    monkeypatch.setattr("polyalign.generation.generate.decode_part", fake)
    model = micro_model(tok)
    (cot,) = generate_records(
        model, tok, micro_records()[:1], "cot", GREEDY, progress=False, max_prompt_tokens=110
    )
    (sft,) = generate_records(
        model, tok, micro_records()[:1], "sft", GREEDY, progress=False, max_prompt_tokens=110
    )
    assert budgets == [
        10 + 5,
        10,
    ]  # CoT: max_new_tokens + cot_extra_tokens; every other system: max_new_tokens
    assert (
        cot["answer"] == "" and not cot["answer_found"] and cot["output"] == "Let me think about the weather"
    )
    assert sft["answer"] == sft["output"] and sft["answer_found"]
    with pytest.raises(ValueError, match="positions"):  # 110 + 15 > 120 positions
        generate_records(
            micro_model(tok, max_length=120),
            tok,
            micro_records()[:1],
            "cot",
            GREEDY,
            progress=False,
            max_prompt_tokens=110,
        )


def test_generate_file_jsonl(tmp_path, micro):
    model, tok = micro
    save_model(model, tok, tmp_path / "m")
    records = micro_records()
    config = fill_defaults(
        {
            "model": {"max_length": 128},
            "prompt": {"max_prompt_tokens": 110, "max_history_turns": 2},
            "generation": {"max_new_tokens": 8, "batch_size": 4, "length_check_quantile": None},
        }
    )
    summary = generate_file(
        tmp_path / "m",
        records[:5],
        "bucket_sft",
        config,
        tmp_path / "g.jsonl",
        train_records=records,
        progress=False,
    )
    rows = [json.loads(line) for line in (tmp_path / "g.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [r["id"] for r in records[:5]]
    assert set(rows[0]) == {
        "id",
        "sample",
        "system",
        "style",
        "prompt",
        "output",
        "answer",
        "answer_found",
        "finish_reason",
        "prompt_tokens",
        "output_tokens",
        "profile_length",
        "length_bin",
    }
    sampler = LengthSampler.fit(records, seed=0)
    for r, rec in zip(rows, records):
        assert r["system"] == "bucket_sft" and r["profile_length"] == "sampled"
        assert r["length_bin"] == sampler.sample(rec) and f"length={r['length_bin']}." in r["prompt"]
        assert r["finish_reason"] in ("eos", "length") and 0 <= r["output_tokens"] <= 8
        assert r["prompt_tokens"] == len(encode_prompt(r["prompt"], tok))
    assert summary["rows"] == 5 and summary["decoding"]["max_new_tokens"] == 8
    generate_file(
        tmp_path / "m",
        records[:5],
        "bucket_sft",
        config,
        tmp_path / "g2.jsonl",
        train_records=records,
        progress=False,
    )
    assert (tmp_path / "g.jsonl").read_bytes() == (tmp_path / "g2.jsonl").read_bytes()
    gold = tmp_path / "gold.jsonl"
    generate_file(
        tmp_path / "m", records[:5], "bucket_sft", config, gold, profile_length="gold", progress=False
    )
    assert [json.loads(line)["length_bin"] for line in gold.read_text().splitlines()] == [
        r["length_bin"] for r in records[:5]
    ]
    with pytest.raises(ValueError, match="train split"):
        generate_file(tmp_path / "m", records[:5], "hdpo", config, tmp_path / "x.jsonl", progress=False)
    # max_new_tokens is checked against the 95th percentile of the human answer lengths per language
    checked = {**config, "generation": {**config["generation"], "length_check_quantile": 0.95}}
    with pytest.raises(ValueError, match="below the 0.95 quantile of human answer lengths"):
        generate_file(
            tmp_path / "m",
            records[:5],
            "sft",
            checked,
            tmp_path / "x.jsonl",
            train_records=records,
            progress=False,
        )
    p95 = max(check_max_new_tokens(10**6, answer_token_lengths(tok, records)).values())
    enough = {
        **checked,
        "generation": {**checked["generation"], "max_new_tokens": p95},
        "prompt": {"max_prompt_tokens": 128 - p95, "max_history_turns": 2},
    }
    summary = generate_file(
        tmp_path / "m",
        records[:2],
        "sft",
        enough,
        tmp_path / "y.jsonl",
        train_records=records,
        progress=False,
    )
    assert summary["human_answer_length_tokens"]["en"]["p95"] <= p95


def test_a_variant_trained_on_plain_prompts_generates_with_plain_prompts():
    """Bucket-SFT's model under `style="plain"` (a variant without profile prompts): the prompts
    and rows are exactly SFT's, only the system name differs."""
    tok = micro_tokenizer()
    model = micro_model(tok, max_length=192)
    LONG_PROMPT = {**PROMPT, "max_prompt_tokens": 150}  # room for the profile line
    profiled = generate_records(
        model,
        tok,
        micro_records(),
        "bucket_sft",
        GREEDY,
        progress=False,
        profile_length="gold",
        **LONG_PROMPT,
    )
    plain = generate_records(
        model, tok, micro_records(), "bucket_sft", GREEDY, progress=False, style="plain", **LONG_PROMPT
    )
    sft = generate_records(model, tok, micro_records(), "sft", GREEDY, progress=False, **LONG_PROMPT)
    assert {r["style"] for r in profiled} == {"profile"} and {r["style"] for r in plain} == {"plain"}
    assert [r["prompt"] for r in plain] == [r["prompt"] for r in sft]
    assert [r["prompt"] for r in plain] != [r["prompt"] for r in profiled]
    assert [{**r, "system": "sft"} for r in plain] == sft
