import json
from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch
from transformers import AutoModelForCausalLM, LlamaConfig

from polyalign.config import fill_defaults
from polyalign.generate import (
    GenerationSettings,
    SeededTopPSampler,
    counter_uniform,
    generate_file,
    generate_ids,
    generate_records,
    generate_unbatched,
    nucleus_threshold,
)
from polyalign.models import save_model
from polyalign.models.tokenizer_report import answer_token_lengths, check_max_new_tokens
from polyalign.prompts import LengthSampler, encode_prompt, render_prompt
from tests.models.micro import PROMPT, micro_model, micro_records, micro_tokenizer, one_thread  # noqa: F401 (fixture)

GREEDY = GenerationSettings(
    max_new_tokens=10,
    do_sample=False,
    temperature=1.0,
    top_p=1.0,
    batch_size=8,
    seed=0,
    num_samples=1,
    cot_extra_tokens=5,
    length_check_quantile=None,
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


def test_sampler_matches_softmax():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]])
    proc = SeededTopPSampler(list(range(4000)), temperature=1.0, top_p=1.0)
    draws = proc(None, logits.expand(4000, 4)).argmax(-1)
    counts = torch.bincount(draws, minlength=4) / 4000
    assert torch.allclose(counts, logits.softmax(-1)[0], atol=0.03)


def test_sampler_nucleus_and_temperature_by_hand():
    # p = .644, .237, .087, .032: mass before rank 2 is .881 ≥ .7, so the nucleus is {0, 1}
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]]).expand(4000, 4)
    draws = SeededTopPSampler(list(range(4000)), temperature=1.0, top_p=0.7)(None, logits).argmax(-1)
    counts = torch.bincount(draws, minlength=4) / 4000
    p = torch.tensor([2.0, 1.0]).softmax(-1)  # renormalised nucleus: .731, .269
    assert counts[2:].sum() == 0 and torch.allclose(counts[:2], p, atol=0.03)
    # T = 2 flattens: p = .448, .272, .165, .100 → mass before rank 2 is .720 ≥ .7 → {0, 1} again;
    # top_p = .75 → mass before rank 3 is .885 → {0, 1, 2}
    hot = SeededTopPSampler(list(range(4000)), temperature=2.0, top_p=0.75)(None, logits).argmax(-1)
    counts = torch.bincount(hot, minlength=4) / 4000
    p = torch.tensor([1.0, 0.5, 0.0]).softmax(-1)
    assert counts[3] == 0 and torch.allclose(counts[:3], p, atol=0.03)
    # the smallest set: one token that alone reaches top_p
    one = SeededTopPSampler([0, 1, 2], temperature=1.0, top_p=0.5)(None, logits[:3]).argmax(-1)
    assert one.tolist() == [0, 0, 0]


def test_sampler_inverse_cdf_with_known_uniform(monkeypatch):
    import polyalign.generate as gen

    # u = 0.5 of the nucleus mass {0: .644, 1: .237} = .440 → token 0; u = 0.9 → .793 → token 1
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0], [2.0, 1.0, 0.0, -1.0]])
    monkeypatch.setattr(
        gen, "counter_uniform", lambda seeds, step, n: torch.tensor([[0.5], [0.9]], dtype=torch.float64)
    )
    out = SeededTopPSampler([7, 8], temperature=1.0, top_p=0.7)(None, logits)
    assert out.argmax(-1).tolist() == [0, 1]
    assert torch.isinf(out).sum() == 6 and (out == 0).sum() == 2


def test_counter_uniform_is_a_function_of_seed_step_and_column():
    a = counter_uniform(torch.tensor([1, 2]), 0, 10)
    b = counter_uniform(torch.tensor([2]), 0, 50)
    assert torch.equal(a[1], b[0, :10])
    assert not torch.equal(a, counter_uniform(torch.tensor([1, 2]), 1, 10))
    u = counter_uniform(torch.arange(200), 3, 1000)
    assert 0 < u.min() and u.max() < 1
    assert abs(u.mean().item() - 0.5) < 0.005 and abs(u.std().item() - 12**-0.5) < 0.005


def test_flat_rows_draw_from_the_whole_nucleus():
    # nearly flat, distinct p (≈ 0.001 each, falling with the token id): ~900 tokens reach 0.9
    flat = (-1e-5 * torch.arange(1000.0)).expand(300, 1000)
    p = flat[0].softmax(-1)
    size = int(((p.double().cumsum(0) - p.double()) < 0.9).sum())
    assert 890 < size < 910
    draws = SeededTopPSampler(list(range(300)), temperature=1.0, top_p=0.9)(None, flat).argmax(-1)
    assert draws.max() < size and (draws >= 450).sum() > 100
    # exact ties at the boundary are all kept: a fully flat row samples from every token
    tied = SeededTopPSampler(list(range(300)), temperature=1.0, top_p=0.9)(None, torch.zeros(300, 1000))
    assert (tied.argmax(-1) >= 900).sum() > 10


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


def _full_sort_threshold(probs, top_p):
    desc = torch.sort(probs, dim=-1, descending=True).values
    size = ((desc.cumsum(-1) - desc) < top_p).sum(-1, keepdim=True)
    return desc.gather(1, size - 1)


@pytest.mark.parametrize("top_p", [0.5, 0.9, 0.95, 0.999])
def test_partial_sort_nucleus_equals_the_full_sort_bit_for_bit(top_p):
    g = torch.Generator().manual_seed(0)
    # peaked rows (small nucleus), flat rows (nucleus beyond the candidates: full-sort fallback), ties
    logits = torch.cat(
        [
            torch.randn(40, 3000, generator=g) * 4,
            torch.randn(20, 3000, generator=g) * 0.1,
            torch.zeros(4, 3000),
            torch.randn(4, 3000, generator=g).round(),
        ]
    )
    probs = torch.softmax(logits / 0.8, dim=-1)
    for candidates in (8, 256, 5000):
        got = nucleus_threshold(probs, top_p, candidates)
        assert torch.equal(got, _full_sort_threshold(probs, top_p)), candidates


def test_cot_answer_extraction(monkeypatch):
    tok = micro_tokenizer()
    text = "Think about it.\nAnswer: Pretty good."
    ids = tok(text, add_special_tokens=False)["input_ids"]
    monkeypatch.setattr("polyalign.generate.generate_ids", lambda m, p, *a, **k: [(ids, "eos")] * len(p))
    model = micro_model(tok)
    (row,) = generate_records(
        model, tok, micro_records()[:1], "cot", GREEDY, progress=False, max_prompt_tokens=110
    )
    assert row["output"] == text and row["answer"] == "Pretty good." and row["answer_found"]
    assert "Answer:" in row["prompt"] and row["style"] == "cot"


def test_cot_gets_extra_tokens_and_a_missing_answer_line_is_an_empty_answer(monkeypatch):
    tok = micro_tokenizer()
    budgets = []

    def fake(model, prompts, seeds, gcfg, *a, **k):
        budgets.append(gcfg.max_new_tokens)
        return [
            (tok("Let me think about the weather", add_special_tokens=False)["input_ids"], "length")
        ] * len(prompts)

    monkeypatch.setattr("polyalign.generate.generate_ids", fake)
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


@pytest.mark.parametrize("family", ["qwen2", "llama3", "gemma2"])
def test_decode_batch_matches_generate_on_paper_architectures(family, tmp_path):
    """The batch decoder (rows leave at eos, positions from the mask, the model's own cache
    layers, Gemma2's sliding window included) gives HF `generate`'s greedy tokens, one prompt at
    a time, on random tiny Qwen2, Llama and Gemma2 checkpoints."""
    from polyalign.generate import decode_batch
    from tests.paper_models import build_tiny_checkpoint

    model = AutoModelForCausalLM.from_pretrained(build_tiny_checkpoint(family, tmp_path)).eval()
    torch.manual_seed(1)
    with torch.no_grad():  # larger random weights: the default init repeats one token forever
        for p in model.parameters():
            p.normal_(0.0, 0.5)
    # prompt + new tokens cross Gemma2's 64-token sliding window
    vocab = model.config.vocab_size
    prompts = [torch.randint(10, vocab, (n,)).tolist() for n in (70, 5, 33, 48, 12, 61)]
    settings = replace(GREEDY, max_new_tokens=24)
    free = generate_unbatched(
        model, SimpleNamespace(pad_token_id=0), prompts, replace(settings, batch_size=1)
    )
    # "eos" tokens the rows emit at different steps, so rows leave the batch one by one
    eos = sorted({f[min(3 * r + 1, len(f) - 1)] for r, f in enumerate(free)})
    model.generation_config.eos_token_id = eos
    reference = generate_unbatched(model, SimpleNamespace(pad_token_id=0), prompts, settings)
    width = max(map(len, prompts))
    ids = torch.tensor([[0] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    tokens, lengths = decode_batch(model, ids, mask, None, 24, eos)
    got = [tokens[r, : lengths[r]].tolist() for r in range(len(prompts))]
    assert len({len(g) for g in got}) > 2  # rows did finish at different steps
    assert got == reference
