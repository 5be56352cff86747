"""Continuous batching gives the static-batch loop's tokens, row for row, in fewer decode steps:
greedy and sampled, on tiny Qwen2, Llama and Gemma2 checkpoints (prompts and generations cross
Gemma2's sliding window while rows are spliced into the running cache) and on the embedded
default architecture, also while ended rows ride along as dead rows until a compaction; the
scheduler hands a finished row's slot to the next prompt; a dead row's draws never reach its
output; and the growing cache gives DynamicCache's logits bit for bit."""

from dataclasses import replace

import pytest
import torch
from transformers import AutoModelForCausalLM, DynamicCache

from polyalign.config import fill_defaults
from polyalign.generation import continuous
from polyalign.generation.continuous import decode_continuous
from polyalign.generation.decoding import (
    DecodeStats,
    counter_uniform,
    decode_static_batches,
    last_logits,
    length_order,
    row_seed,
)
from polyalign.generation.generate import generate_ids, generate_records, language_budgets, row_budget
from polyalign.models import build_model, model_settings
from polyalign.prompts import encode_prompt, render_prompt
from tests.models.micro import GREEDY, PROMPT, micro_records, micro_tokenizer, one_thread  # noqa: F401
from tests.test_generate import ScriptedModel

pytestmark = pytest.mark.usefixtures("one_thread")

SAMPLED = (0.8, 0.95)
NEW = 24


def _continuous(model, prompts, seeds, budgets, eos, batch_size, sampling, stats=None):
    """decode_continuous in length order (as generate does), results back in input order."""
    order = length_order(prompts)
    out = decode_continuous(
        model,
        [prompts[i] for i in order],
        [seeds[i] for i in order],
        [budgets[i] for i in order],
        batch_size=batch_size,
        eos_ids=eos,
        pad_id=0,
        sampling=sampling,
        stats=stats,
    )
    back = [None] * len(prompts)
    for i, o in zip(order, out):
        back[i] = o
    return back


def _eos_at_different_steps(model, prompts, seeds, sampling, batch_size):
    """ "eos" tokens the rows emit at different steps, so rows end one by one and slots free up."""
    free = decode_static_batches(
        model, prompts, seeds, NEW, batch_size=batch_size, eos_ids=[-1], pad_id=0, sampling=sampling
    )
    return sorted({ids[min(6 + 7 * r, len(ids) - 1)] for r, (ids, _) in enumerate(free[:2])})


def _check_identity(model, prompts, sampling, batch_size=4):
    seeds = [row_seed(5, f"r{i}", 0) for i in range(len(prompts))]
    eos = _eos_at_different_steps(model, prompts, seeds, sampling, batch_size)
    static_stats, continuous_stats = DecodeStats(), DecodeStats()
    static = decode_static_batches(
        model,
        prompts,
        seeds,
        NEW,
        batch_size=batch_size,
        eos_ids=eos,
        pad_id=0,
        sampling=sampling,
        stats=static_stats,
    )
    continuous = _continuous(
        model, prompts, seeds, [NEW] * len(prompts), eos, batch_size, sampling, continuous_stats
    )
    reasons = [reason for _, reason in static]
    assert reasons.count("eos") > 1  # rows really end early, at different steps
    assert len({len(ids) for ids, _ in static}) > 1
    assert continuous == static
    assert continuous_stats.tokens == static_stats.tokens
    assert continuous_stats.decode_steps < static_stats.decode_steps
    assert continuous_stats.prefill_calls > static_stats.prefill_calls  # newcomers were spliced in


@pytest.fixture(scope="module", params=["qwen2", "llama3", "gemma2"])
def paper_model(request, tmp_path_factory):
    from tests.paper_models import build_tiny_checkpoint

    path = build_tiny_checkpoint(request.param, tmp_path_factory.mktemp(request.param))
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    torch.manual_seed(1)
    with torch.no_grad():  # larger random weights: the default init repeats one token forever
        for p in model.parameters():
            p.normal_(0.0, 0.5)
    return model


def _paper_prompts(model):
    if hasattr(model.config, "sliding_window") and model.config.sliding_window:
        assert model.config.sliding_window == 64  # the prompts below cross it
    g = torch.Generator().manual_seed(2)
    vocab = model.config.vocab_size
    lengths = (70, 5, 33, 48, 12, 61, 20, 66, 9, 40, 3, 55, 27, 15)
    return [torch.randint(10, vocab, (n,), generator=g).tolist() for n in lengths]


@pytest.mark.parametrize("sampling", [None, SAMPLED], ids=["greedy", "sampled"])
def test_continuous_equals_static_on_paper_architectures(paper_model, sampling):
    _check_identity(paper_model, _paper_prompts(paper_model), sampling)


@pytest.mark.parametrize("sampling", [None, SAMPLED], ids=["greedy", "sampled"])
def test_dead_rows_change_no_token_and_save_compactions(paper_model, sampling, monkeypatch):
    """Batch 6, REFILL_DIVISOR 3: refill_at 2, so ended rows are fed along as dead rows until a
    second one ends or newcomers come (with batch 4 and the default divisor refill_at is 1: no
    dead row is ever fed). Rows get budgets from 4 to 24 tokens, so they end at many different
    steps; a row's tokens are the static loop's (one budget of 24) cut at its own budget. The
    cache is compacted fewer times than there are forward calls in which rows ended (the loop
    before dead rows compacted after each of them)."""
    monkeypatch.setattr(continuous, "REFILL_DIVISOR", 3)
    stats, compactions, ending_calls = DecodeStats(), [], set()
    select, end = continuous.Slots.select, continuous.Slots.end

    def counted_select(self, keep):
        compactions.append(len(self) - len(keep))
        select(self, keep)

    def counted_end(self, k):
        ending_calls.add((stats.prefill_calls, stats.decode_steps))  # the forward call it ended in
        end(self, k)

    monkeypatch.setattr(continuous.Slots, "select", counted_select)
    monkeypatch.setattr(continuous.Slots, "end", counted_end)
    prompts = _paper_prompts(paper_model)
    seeds = [row_seed(5, f"r{i}", 0) for i in range(len(prompts))]
    budgets = [4 + 5 * i % 21 for i in range(len(prompts))]
    eos = _eos_at_different_steps(paper_model, prompts, seeds, sampling, 6)
    static = decode_static_batches(
        paper_model, prompts, seeds, NEW, batch_size=6, eos_ids=eos, pad_id=0, sampling=sampling
    )
    got = _continuous(paper_model, prompts, seeds, budgets, eos, 6, sampling, stats)
    expected = [
        (ids, "eos") if reason == "eos" and len(ids) < budget else (ids[:budget], "length")
        for (ids, reason), budget in zip(static, budgets)
    ]
    assert got == expected
    assert {reason for _, reason in got} == {"eos", "length"}
    assert stats.tokens == sum(len(ids) + (reason == "eos") for ids, reason in got)
    live_row_steps = stats.tokens - len(prompts)  # each prompt's first token comes from its prefill
    assert stats.row_steps > live_row_steps  # dead rows were fed
    assert all(n > 0 for n in compactions)
    assert 0 < len(compactions) < len(ending_calls)


def test_growing_cache_gives_dynamic_cache_logits_bit_for_bit(paper_model):
    """GrowingLayer writes each step's keys and values into spare columns and the attention reads
    a strided view: the logits equal those over DynamicCache's contiguous tensors, bit for bit,
    and the step writes in place (no copy of the layer)."""
    g = torch.Generator().manual_seed(4)
    ids = torch.randint(10, paper_model.config.vocab_size, (3, 70), generator=g)
    mask = torch.ones_like(ids)
    mask[1, :20] = 0
    mask[2, :50] = 0
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    plain, growing = DynamicCache(config=paper_model.config), continuous._new_cache(paper_model.config)
    grown = [layer for layer in growing.layers if isinstance(layer, continuous.GrowingLayer)]
    assert grown
    with torch.no_grad():
        for step in range(8):
            a = last_logits(paper_model, ids, mask, positions, plain)
            buffers = [layer._buffers[0].data_ptr() for layer in grown] if step else None
            b = last_logits(paper_model, ids, mask, positions, growing)
            assert torch.equal(a, b)
            if buffers is not None:
                assert [layer._buffers[0].data_ptr() for layer in grown] == buffers
            ids = a.argmax(dim=-1, keepdim=True)
            mask = torch.cat([mask, mask.new_ones((3, 1))], dim=1)
            positions = positions[:, -1:] + 1


def test_a_dead_row_is_fed_until_compaction_and_its_draws_are_ignored():
    eos = 2
    # the scripts go on after each row's end: a dead row draws those tokens, which must be dropped
    model = ScriptedModel(
        {
            (1, 5, 6, 7): [11, eos, 30, 31, 32, 33],  # A: eos at its second token
            (1, 8): [14, 15, 16, 17, 18, 19],  # B: budget 3
            (1, 9): [20, 21, 22, 23, 24, 25, 26],  # C: budget 6
            (1, 3): [eos, 40, 41],  # D: eos at its first token, never joins the running batch
        }
    )
    stats = DecodeStats()
    out = decode_continuous(
        model,
        [[1, 5, 6, 7], [1, 8], [1, 9], [1, 3]],
        [0] * 4,
        [6, 3, 6, 6],
        batch_size=16,  # refill_at 2: compaction once two rows are dead
        eos_ids=[eos],
        pad_id=0,
        sampling=None,
        stats=stats,
    )
    assert out == [([11], "eos"), ([14, 15, 16], "length"), ([20, 21, 22, 23, 24, 25], "length"), ([], "eos")]
    (prefill, _), *steps = model.calls
    assert prefill.shape[0] == 4
    # A ended in step 1 and is fed its eos in step 2 (drawing 30, ignored); B ends in step 2: two
    # dead rows, so A and B are dropped, and with them C's two padding columns
    assert [ids.tolist() for ids, _ in steps] == [
        [[11], [14], [20]],
        [[eos], [15], [21]],
        [[22]],
        [[23]],
        [[24]],
    ]
    assert [m.shape[1] for _, m in steps] == [5, 6, 5, 6, 7]
    assert steps[2][1].tolist() == [[1, 1, 1, 1, 1]]
    # tokens: the live rows' only (A 2, B 3, C 6, D 1); rows fed: dead A in step 2 included
    assert (stats.prefill_calls, stats.decode_steps, stats.tokens, stats.row_steps) == (1, 5, 12, 9)


@pytest.mark.parametrize("sampling", [None, SAMPLED], ids=["greedy", "sampled"])
def test_continuous_equals_static_on_the_embedded_model(sampling):
    tok = micro_tokenizer()
    settings = model_settings(fill_defaults({})["model"])  # the embedded default architecture
    model = build_model(settings, tok).eval()
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():  # larger random weights: varied tokens
        for p in model.parameters():
            p.normal_(0.0, 0.3, generator=g)
    prompts = [encode_prompt(render_prompt(r, tok, **PROMPT), tok) for r in micro_records()[:14]]
    _check_identity(model, prompts, sampling)


def test_a_finished_row_hands_its_slot_to_the_next_prompt():
    eos = 2
    # sorted longest first: P0 = (1, 5, 6, 7), P1 = (1, 8, 9), P2 = (1, 5)
    model = ScriptedModel({(1, 5, 6, 7): [11, eos], (1, 8, 9): [14, 15, 16, 17], (1, 5): [10, eos]})
    prompts = [[1, 5, 6, 7], [1, 8, 9], [1, 5]]
    stats = DecodeStats()
    out = decode_continuous(
        model,
        prompts,
        [0, 0, 0],
        [3, 3, 3],
        batch_size=2,
        eos_ids=[eos],
        pad_id=0,
        sampling=None,
        stats=stats,
    )
    assert out == [([11], "eos"), ([14, 15, 16], "length"), ([10], "eos")]
    (ids0, mask0), (step1, _), (ids2, mask2), (step2, mask3) = model.calls
    assert ids0.tolist() == [[1, 5, 6, 7], [0, 1, 8, 9]] and mask0.tolist() == [[1, 1, 1, 1], [0, 1, 1, 1]]
    assert step1.tolist() == [[11], [14]]
    # P0 ended: P2 is prefilled alone and joins P1, whose unused padding column was cut
    assert ids2.tolist() == [[1, 5]] and mask2.tolist() == [[1, 1]]
    assert step2.tolist() == [[15], [10]]
    assert mask3.tolist() == [[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]]
    assert (stats.prefill_calls, stats.decode_steps, stats.tokens, stats.row_steps) == (2, 2, 7, 4)
    # the static loop needs a third step: P2 waits for the batch of P0 and P1 to end
    static = DecodeStats()
    model.calls.clear()
    ref = decode_static_batches(
        model, prompts, [0, 0, 0], 3, batch_size=2, eos_ids=[eos], pad_id=0, sampling=None, stats=static
    )
    assert ref == out and (static.prefill_calls, static.decode_steps) == (2, 3)


def test_rows_stop_at_their_own_budget():
    eos = 2
    model = ScriptedModel({(1, 5): [10, 11, 12, 13], (1, 8): [14, 15, 16, 17]})
    out = decode_continuous(
        model, [[1, 5], [1, 8]], [0, 0], [1, 3], batch_size=2, eos_ids=[eos], pad_id=0, sampling=None
    )
    assert out == [([10], "length"), ([14, 15, 16], "length")]


def test_per_row_steps_draw_the_scalar_steps_uniforms():
    seeds = torch.tensor([11, 2**59 + 3, 7])
    steps = torch.tensor([0, 5, 1000])
    per_row = counter_uniform(seeds, steps, 1)
    for r in range(3):
        assert torch.equal(per_row[r], counter_uniform(seeds[r : r + 1], int(steps[r]), 1)[0])


def test_generate_ids_equals_the_static_loop_across_parts():
    tok = micro_tokenizer()
    model = build_model(model_settings(fill_defaults({})["model"]), tok).eval()
    prompts = [encode_prompt(render_prompt(r, tok, **PROMPT), tok) for r in micro_records()]
    seeds = list(range(len(prompts)))
    settings = replace(GREEDY, do_sample=True, temperature=0.8, top_p=0.95, part_rows=7, batch_size=3)
    got = generate_ids(model, prompts, seeds, settings, tok.pad_token_id, [tok.eos_token_id])
    ref = decode_static_batches(
        model,
        prompts,
        seeds,
        10,
        batch_size=3,
        eos_ids=[tok.eos_token_id],
        pad_id=tok.pad_token_id,
        sampling=(0.8, 0.95),
    )
    assert got == ref


def test_language_budgets_from_the_human_answer_lengths():
    lengths = {"en": list(range(1, 21)), "zh": [5] * 10}
    settings = replace(GREEDY, max_new_tokens=25, budget_quantile=0.9, budget_headroom=1.5)
    # en: 0.9 quantile of 1..20 is 18, × 1.5 = 27, capped at 25; zh: 5 × 1.5 = 7.5 → 8
    assert language_budgets(settings, "sft", lengths) == {"en": 25, "zh": 8}
    capped = replace(settings, system_max_new_tokens={"base": 6})
    assert language_budgets(capped, "base", lengths) == {"en": 6, "zh": 6}
    assert language_budgets(capped, "sft", lengths) == {"en": 25, "zh": 8}
    assert language_budgets(replace(settings, budget_quantile=None), "sft", lengths) == {"en": 25, "zh": 25}
    zh = {"id": "z", "language": "zh"}
    assert row_budget(settings, "cot", zh, {"zh": 8}) == 8 + settings.cot_extra_tokens
    assert row_budget(capped, "base", zh, None) == 6
    with pytest.raises(ValueError, match="no token budget for language 'zh'"):
        row_budget(settings, "sft", zh, {"en": 25})


def test_generate_records_keeps_each_language_in_its_budget():
    tok = micro_tokenizer()
    model = build_model(model_settings(fill_defaults({})["model"]), tok).eval()
    settings = replace(GREEDY, max_new_tokens=9)
    rows = generate_records(
        model, tok, micro_records(), "sft", settings, progress=False, budgets={"en": 9, "zh": 4}, **PROMPT
    )
    longest = {
        lang: max(r["output_tokens"] for r in rows if r["id"].startswith(lang)) for lang in ("en", "zh")
    }
    assert longest == {"en": 9, "zh": 4}  # random weights never emit eos: every row uses its budget
