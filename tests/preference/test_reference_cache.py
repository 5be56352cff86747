"""Reference cache == a direct, one-sequence-at-a-time computation; keyed and checked by pair id."""

import pytest
import torch

from polyalign.io import InputError
from polyalign.models import load_model
from polyalign.preference.examples import collate_pairs, tokenize_pairs
from polyalign.preference.reference_cache import (
    attach_reference,
    build_reference_cache,
    compute_reference_logps,
    read_reference_cache,
)
from polyalign.train.logprobs import response_logps

from .conftest import MICRO_MODEL, micro_config, micro_settings


def direct_logp(model, ex):
    """Unpadded single-row forward; Σ log p(label) by hand from the logits."""
    ids = torch.tensor([ex.input_ids])
    with torch.no_grad():
        logp = model(input_ids=ids).logits[0].float().log_softmax(-1)
    return sum(logp[t - 1, tok].item() for t, tok in enumerate(ex.labels) if tok != -100 and t > 0)


def test_tokenisation_eos_rule(micro, train_pairs):
    _, tok = micro
    items = tokenize_pairs(train_pairs, tok, MICRO_MODEL["max_length"])
    eos = tok.eos_token_id
    for p, it in zip(train_pairs, items):
        assert it.chosen.input_ids[-1] == eos  # human answer: always ends (short enough here)
        assert (it.rejected.input_ids[-1] == eos) == p["rejected_finished"]
        n_prompt = it.chosen.labels.count(-100)
        assert it.chosen.input_ids[:n_prompt] == it.rejected.input_ids[:n_prompt]  # same prompt
    assert collate_pairs(items[:3], tok.pad_token_id, shared_prompt=False)["input_ids"].shape[0] == 6
    batch = collate_pairs(items[:3], tok.pad_token_id, shared_prompt=True)
    assert batch["input_ids"].shape[0] == 3 and batch["weights"].tolist() == pytest.approx(
        [p["weight"] for p in train_pairs[:3]]
    )
    assert "ref_chosen" not in batch


def test_cache_equals_direct_computation_and_is_keyed(micro, train_pairs, tmp_path):
    start, tok = micro
    model, _ = load_model(start, micro_settings())
    items = tokenize_pairs(train_pairs, tok, MICRO_MODEL["max_length"])
    rows = compute_reference_logps(model, items, tok.pad_token_id, batch_size=3)
    assert [r["id"] for r in rows] == [p["id"] for p in train_pairs]  # input order
    for it, row in zip(items, rows):
        assert row["ref_chosen"] == pytest.approx(direct_logp(model, it.chosen), abs=1e-4)
        assert row["ref_rejected"] == pytest.approx(direct_logp(model, it.rejected), abs=1e-4)
        assert row["chosen_tokens"] == sum(t != -100 for t in it.chosen.labels)
        assert row["rejected_tokens"] == sum(t != -100 for t in it.rejected.labels)
        # and equal to the shared response_logps on the single unpadded row
        one = {
            k: torch.tensor([v])
            for k, v in (("input_ids", it.rejected.input_ids), ("labels", it.rejected.labels))
        }
        with torch.no_grad():
            lp = response_logps(model, one["input_ids"], torch.ones_like(one["input_ids"]), one["labels"])
        assert row["ref_rejected"] == pytest.approx(lp.item(), abs=1e-4)

    # the artifact: written by build_reference_cache from the checkpoint dir, read back keyed by id
    out = tmp_path / "ref.jsonl"
    summary = build_reference_cache(train_pairs, start, micro_config(), "hdpo", out, progress=False)
    assert summary["pairs"] == len(train_pairs) and summary["max_length"] == MICRO_MODEL["max_length"]
    cache = read_reference_cache(out)
    assert set(cache) == {p["id"] for p in train_pairs}
    for r in rows:
        assert cache[r["id"]]["ref_chosen"] == pytest.approx(r["ref_chosen"], abs=1e-5)

    # attaching: by id whatever the order; a foreign or re-tokenised cache is refused
    fresh = tokenize_pairs(train_pairs[::-1], tok, MICRO_MODEL["max_length"])
    attach_reference(fresh, cache)
    assert fresh[0].ref_chosen == cache[train_pairs[-1]["id"]]["ref_chosen"]
    with pytest.raises(InputError, match="does not match"):
        attach_reference(tokenize_pairs(train_pairs[:-1], tok, MICRO_MODEL["max_length"]), cache)
    with pytest.raises(InputError, match="tokenised differently"):
        attach_reference(tokenize_pairs(train_pairs, tok, 36), cache)  # cuts the longer rejected sides
