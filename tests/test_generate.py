import json

import pytest
import torch

from polyalign.generate import (
    GumbelSampler,
    counter_uniform,
    generate_file,
    generate_ids,
    generate_records,
    generate_unbatched,
)
from polyalign.models import save_model
from polyalign.prompts import LengthSampler, encode_prompt, render_prompt

from tests.models.micro import PROMPT, micro_model, micro_records, micro_tokenizer, one_thread  # noqa: F401 (fixture)

GREEDY = {"max_new_tokens": 10, "do_sample": False, "temperature": 1.0, "top_p": 1.0, "batch_size": 8, "seed": 0,
          "num_samples": 1}
SAMPLE = {**GREEDY, "do_sample": True, "temperature": 1.0, "top_p": 0.9}

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
        expect = ref[:ref.index(tok.eos_token_id)] if tok.eos_token_id in ref else ref
        assert ids == expect
        assert reason == ("eos" if tok.eos_token_id in ref else "length")


def test_sampling_is_seeded_per_row_not_per_batch(micro):
    model, tok = micro
    rows_a = generate_records(model, tok, micro_records(), "sft", SAMPLE, progress=False, **PROMPT)
    rows_b = generate_records(model, tok, micro_records(), "sft", SAMPLE, progress=False, **PROMPT)
    assert rows_a == rows_b
    one = generate_records(model, tok, micro_records()[::-1], "sft", {**SAMPLE, "batch_size": 1}, progress=False,
                           **PROMPT)
    assert [r["output"] for r in one[::-1]] == [r["output"] for r in rows_a]
    other_seed = generate_records(model, tok, micro_records(), "sft", {**SAMPLE, "seed": 1}, progress=False, **PROMPT)
    assert [r["output"] for r in other_seed] != [r["output"] for r in rows_a]


def test_num_samples(micro):
    model, tok = micro
    rows = generate_records(model, tok, micro_records()[:3], "sft", {**SAMPLE, "num_samples": 3}, progress=False,
                            **PROMPT)
    assert [(r["id"], r["sample"]) for r in rows] == [(r["id"], j) for r in micro_records()[:3] for j in range(3)]
    assert len({r["output"] for r in rows[:3]}) > 1


def test_gumbel_sampler_matches_softmax():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]])
    counts = torch.zeros(4)
    proc = GumbelSampler(list(range(4000)), temperature=1.0, top_p=1.0)
    draws = proc(None, logits.expand(4000, 4)).argmax(-1)
    counts = torch.bincount(draws, minlength=4) / 4000
    assert torch.allclose(counts, logits.softmax(-1)[0], atol=0.03)
    top = GumbelSampler(list(range(500)), temperature=1.0, top_p=0.7)(None, logits.expand(500, 4)).argmax(-1)
    assert set(top.tolist()) == {0, 1}  # p = .64, .24, … → the top-0.7 set is the first two


def test_counter_uniform_is_a_function_of_seed_step_and_column():
    a = counter_uniform(torch.tensor([1, 2]), 0, 10)
    b = counter_uniform(torch.tensor([2]), 0, 50)
    assert torch.equal(a[1], b[0, :10])
    assert not torch.equal(a, counter_uniform(torch.tensor([1, 2]), 1, 10))
    u = counter_uniform(torch.arange(200), 3, 1000)
    assert 0 < u.min() and u.max() < 1
    assert abs(u.mean().item() - 0.5) < 0.005 and abs(u.std().item() - 12 ** -0.5) < 0.005


def test_flat_rows_rank_every_token():
    flat = torch.zeros(300, 1000)  # the top 256 tokens hold 25.6% < top_p
    draws = GumbelSampler(list(range(300)), temperature=1.0, top_p=0.9)(None, flat).argmax(-1)
    assert (draws >= 256).sum() > 100


class ScriptedModel(torch.nn.Module):
    """Stands in for a causal LM: records its inputs and returns scripted continuations."""

    def __init__(self, continuations):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.continuations, self.calls = continuations, []
        self.generation_config = None
        self.config = type("C", (), {"max_position_embeddings": 1000})()

    def generate(self, input_ids, attention_mask, generation_config, logits_processor):
        self.calls.append((input_ids.clone(), attention_mask.clone()))
        rows = [self.continuations[tuple(r[m.bool()].tolist())] for r, m in zip(input_ids, attention_mask)]
        width = max(len(c) for c in rows)
        gen = torch.tensor([c + [0] * (width - len(c)) for c in rows])
        return torch.cat([input_ids, gen], dim=1)


def test_left_padding_order_and_finish_reasons():
    eos = 2
    prompts = [[1, 5], [1, 5, 6, 7], [1, 8, 9]]
    model = ScriptedModel({(1, 5): [10, eos], (1, 5, 6, 7): [11, 12, 13], (1, 8, 9): [14, eos]})
    out = generate_ids(model, prompts, [0, 0, 0], {**GREEDY, "max_new_tokens": 3}, pad_id=0, eos_ids=[eos])
    assert out == [([10], "eos"), ([11, 12, 13], "length"), ([14], "eos")]
    (ids, mask), = model.calls  # one batch, longest first, padded on the left
    assert ids.tolist() == [[1, 5, 6, 7], [0, 1, 8, 9], [0, 0, 1, 5]]
    assert mask.tolist() == [[1, 1, 1, 1], [0, 1, 1, 1], [0, 0, 1, 1]]


def test_cot_answer_extraction(monkeypatch):
    tok = micro_tokenizer()
    text = "Think about it.\nAnswer: Pretty good."
    ids = tok(text, add_special_tokens=False)["input_ids"]
    monkeypatch.setattr("polyalign.generate.generate_ids", lambda m, p, *a, **k: [(ids, "eos")] * len(p))
    model = micro_model(tok)
    (row,) = generate_records(model, tok, micro_records()[:1], "cot", GREEDY, progress=False, max_prompt_tokens=110)
    assert row["output"] == text and row["answer"] == "Pretty good." and row["answer_found"]
    assert "Answer:" in row["prompt"] and row["style"] == "cot"


def test_generate_file_jsonl(tmp_path, micro):
    model, tok = micro
    save_model(model, tok, tmp_path / "m")
    records = micro_records()
    config = {"model": {"max_length": 128}, "prompt": {"max_prompt_tokens": 110, "max_history_turns": 2},
              "generation": {"max_new_tokens": 8, "batch_size": 4}}
    summary = generate_file(tmp_path / "m", records[:5], "bucket_sft", config, tmp_path / "g.jsonl",
                            train_records=records, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "g.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [r["id"] for r in records[:5]]
    assert set(rows[0]) == {"id", "sample", "system", "style", "prompt", "output", "answer", "answer_found",
                            "finish_reason", "prompt_tokens", "output_tokens", "profile_length", "length_bin"}
    sampler = LengthSampler.fit(records, seed=0)
    for r, rec in zip(rows, records):
        assert r["system"] == "bucket_sft" and r["profile_length"] == "sampled"
        assert r["length_bin"] == sampler.sample(rec) and f"length={r['length_bin']}." in r["prompt"]
        assert r["finish_reason"] in ("eos", "length") and 0 <= r["output_tokens"] <= 8
        assert r["prompt_tokens"] == len(encode_prompt(r["prompt"], tok))
    assert summary["rows"] == 5 and summary["decoding"]["max_new_tokens"] == 8
    generate_file(tmp_path / "m", records[:5], "bucket_sft", config, tmp_path / "g2.jsonl", train_records=records,
                  progress=False)
    assert (tmp_path / "g.jsonl").read_bytes() == (tmp_path / "g2.jsonl").read_bytes()
    gold = tmp_path / "gold.jsonl"
    generate_file(tmp_path / "m", records[:5], "bucket_sft", config, gold, profile_length="gold", progress=False)
    assert [json.loads(line)["length_bin"] for line in gold.read_text().splitlines()] == \
        [r["length_bin"] for r in records[:5]]
    with pytest.raises(ValueError, match="train split"):
        generate_file(tmp_path / "m", records[:5], "hdpo", config, tmp_path / "x.jsonl", progress=False)
