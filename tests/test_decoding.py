"""The token-level decoder: seeded top-p sampler, counter-based uniforms, exact nucleus, and the
KV-cache batch loop against HF `generate`."""

from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch
from transformers import AutoModelForCausalLM

from polyalign.generation.decoding import (
    SeededTopPSampler,
    counter_uniform,
    decode_batch,
    generate_unbatched,
    nucleus_threshold,
)
from tests.models.micro import GREEDY, one_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("one_thread")


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
    import polyalign.generation.decoding as decoding

    # u = 0.5 of the nucleus mass {0: .644, 1: .237} = .440 → token 0; u = 0.9 → .793 → token 1
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0], [2.0, 1.0, 0.0, -1.0]])
    monkeypatch.setattr(
        decoding, "counter_uniform", lambda seeds, step, n: torch.tensor([[0.5], [0.9]], dtype=torch.float64)
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


@pytest.mark.parametrize("family", ["qwen2", "llama3", "gemma2"])
def test_decode_batch_matches_generate_on_paper_architectures(family, tmp_path):
    """The batch decoder (rows leave at eos, positions from the mask, the model's own cache
    layers, Gemma2's sliding window included) gives HF `generate`'s greedy tokens, one prompt at
    a time, on random tiny Qwen2, Llama and Gemma2 checkpoints."""
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
