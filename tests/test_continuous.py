"""Continuous batching gives the static-batch loop's tokens, row for row, in fewer decode steps:
greedy and sampled, on tiny Qwen2, Llama and Gemma2 checkpoints (prompts and generations cross
Gemma2's sliding window while rows are spliced into the running cache) and on the embedded
default architecture; and the scheduler hands a finished row's slot to the next prompt."""

from dataclasses import replace

import pytest
import torch
from transformers import AutoModelForCausalLM

from polyalign.config import fill_defaults
from polyalign.generation.continuous import decode_continuous
from polyalign.generation.decoding import (
    DecodeStats,
    counter_uniform,
    decode_static_batches,
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


def _check_identity(model, prompts, sampling, batch_size=4):
    seeds = [row_seed(5, f"r{i}", 0) for i in range(len(prompts))]
    free = decode_static_batches(
        model, prompts, seeds, NEW, batch_size=batch_size, eos_ids=[-1], pad_id=0, sampling=sampling
    )
    # "eos" tokens the rows emit at different steps, so rows end one by one and slots free up
    eos = sorted({ids[min(6 + 7 * r, len(ids) - 1)] for r, (ids, _) in enumerate(free[:2])})
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


@pytest.mark.parametrize("sampling", [None, SAMPLED], ids=["greedy", "sampled"])
def test_continuous_equals_static_on_paper_architectures(paper_model, sampling):
    if hasattr(paper_model.config, "sliding_window") and paper_model.config.sliding_window:
        assert paper_model.config.sliding_window == 64  # the prompts below cross it
    g = torch.Generator().manual_seed(2)
    vocab = paper_model.config.vocab_size
    lengths = (70, 5, 33, 48, 12, 61, 20, 66, 9, 40, 3, 55, 27, 15)
    prompts = [torch.randint(10, vocab, (n,), generator=g).tolist() for n in lengths]
    _check_identity(paper_model, prompts, sampling)


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
