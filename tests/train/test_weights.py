"""Bucket-SFT example weights and HDPO pair weights on hand-computed numbers (docs/method.md §4, §6)."""

import math

import numpy as np
import pytest
import torch

from polyalign.train.losses import weighted_sft_loss
from polyalign.train.weights import (
    backoff_units,
    bucket_weights,
    cap_and_renormalize,
    inverse_frequency_gain,
    loss_mass_shares,
    pair_weights,
    rescale_pair_weights,
    size_class,
)

IDS = ["a", "a", "a", "b"]  # n_a = 3, n_b = 1, N = 4, B = 2


# ---------------------------------------------------------------------------- bucket_weights


def test_tau1_is_n_over_b_nb():
    w = bucket_weights(IDS, tau=1.0)
    # N/(B n_b): a → 4/(2·3) = 2/3, b → 4/(2·1) = 2
    np.testing.assert_allclose(w, [2 / 3, 2 / 3, 2 / 3, 2.0], rtol=0, atol=1e-15)
    assert w.mean() == pytest.approx(1.0, abs=1e-15)
    # every bucket carries the same total mass N/B = 2
    assert w[:3].sum() == pytest.approx(2.0) and w[3] == pytest.approx(2.0)


def test_tau1_equal_mass_many_buckets():
    ids = ["x"] * 7 + ["y"] * 2 + ["z"] + ["w"] * 5  # N = 15, B = 4
    w = bucket_weights(ids)
    for b in set(ids):
        assert w[[i for i, x in enumerate(ids) if x == b]].sum() == pytest.approx(15 / 4)
    assert w.mean() == pytest.approx(1.0)


def test_tau0_is_plain_sft():
    np.testing.assert_array_equal(bucket_weights(IDS, tau=0.0), np.ones(4))


def test_tau_half_hand_value():
    # w ∝ n^-1/2, mean 1: w_a = N·3^-1/2 / (3·3^-1/2 + 1) = 4/(3 + √3) ≈ 0.845299,
    # w_b = 4/(√3 + 1) ≈ 1.464102; mean (3·0.845299 + 1.464102)/4 = 1
    w = bucket_weights(IDS, tau=0.5)
    np.testing.assert_allclose(w, [4 / (3 + math.sqrt(3))] * 3 + [4 / (math.sqrt(3) + 1)])
    assert w[0] == pytest.approx(0.845299, abs=1e-6) and w[3] == pytest.approx(1.464102, abs=1e-6)
    assert w.mean() == pytest.approx(1.0)


def test_cap_two_buckets_hand_value():
    # τ=1 weights [2/3]*3 + [2]; cap 1.5: b → 1.5, the rest scaled by s = (4 − 1.5)/2 = 1.25 → 5/6.
    # (one cap-then-renormalize pass would give b = 1.5/0.875 ≈ 1.714 > cap)
    w = bucket_weights(IDS, tau=1.0, cap=1.5)
    np.testing.assert_allclose(w, [5 / 6, 5 / 6, 5 / 6, 1.5])
    assert w.mean() == pytest.approx(1.0) and w.max() <= 1.5 + 1e-12


def test_cap_cascades_to_fixed_point():
    # counts a:6 b:2 c:1 d:1, N = 10, B = 4 → w_a = 10/24, w_b = 10/8 = 1.25, w_c = w_d = 2.5.
    # cap 1.3: capping c, d and renormalizing lifts b to 1.85 > 1.3, so b is capped too; then
    # a = (10 − 4·1.3)/6 = 0.8 and the mean is (4·1.3 + 6·0.8)/10 = 1.
    ids = ["a"] * 6 + ["b"] * 2 + ["c", "d"]
    w = bucket_weights(ids, cap=1.3)
    np.testing.assert_allclose(w, [0.8] * 6 + [1.3] * 4)
    assert w.mean() == pytest.approx(1.0)


def test_cap_not_binding_and_cap_one():
    np.testing.assert_allclose(bucket_weights(IDS, cap=2.0), bucket_weights(IDS))
    np.testing.assert_allclose(bucket_weights(IDS, cap=1.0), np.ones(4))
    w = cap_and_renormalize(np.array([0.1, 0.2, 3.7]), 1.2)  # mean 4/3 → rescaled first
    assert w.mean() == pytest.approx(1.0) and w.max() <= 1.2 + 1e-12


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(bucket_ids=[]),
        dict(bucket_ids=IDS, tau=-0.1),
        dict(bucket_ids=IDS, tau=1.5),
        dict(bucket_ids=IDS, cap=0.9),
    ],
)
def test_bucket_weights_errors(kwargs):
    with pytest.raises(ValueError):
        bucket_weights(**kwargs)


def test_bucket_weighted_loss_equal_gradient_mass_per_bucket():
    """τ = 1: each bucket contributes the same total gradient to the Bucket-SFT loss.

    Toy model: the logits are a shared parameter θ ∈ R^V (same at every position); every
    example has the same 1-token response (label 1), so ℓ_i = −log softmax(θ)_1 for all i and
    ∇L restricted to bucket b is (Σ_{i∈b} w_i / N) ∇ℓ = (1/B) ∇ℓ for every bucket.
    """
    ids = ["a", "a", "a", "b", "c", "c"]  # N = 6, B = 3 → w = [2/3]*3 + [2] + [1, 1]
    w = torch.tensor(bucket_weights(ids))
    torch.testing.assert_close(w, torch.tensor([2 / 3] * 3 + [2.0, 1.0, 1.0], dtype=w.dtype))
    n, vocab = len(ids), 4
    theta = torch.tensor([0.5, -1.0, 2.0, 0.0], requires_grad=True)
    labels = torch.tensor([[-100, 1]] * n)
    logits = lambda: theta.expand(n, 2, vocab)  # noqa: E731

    loss = weighted_sft_loss(logits(), labels, w)
    # hand formula: ℓ = logsumexp(θ) − θ_1, L = (1/N) Σ w_i ℓ = ℓ (weights have mean 1)
    ell = math.log(sum(math.exp(x) for x in [0.5, -1.0, 2.0, 0.0])) + 1.0
    assert loss.item() == pytest.approx(ell, rel=1e-6)
    (g_total,) = torch.autograd.grad(loss, theta)

    per_bucket = []
    for b in sorted(set(ids)):
        mask = torch.tensor([x == b for x in ids], dtype=w.dtype)
        assert (w * mask).sum().item() == pytest.approx(n / 3)  # Σ_{i∈b} w_i = N/B = 2
        (g,) = torch.autograd.grad(weighted_sft_loss(logits(), labels, w * mask), theta)
        per_bucket.append(g)
    for g in per_bucket:
        torch.testing.assert_close(g, g_total / 3)
    torch.testing.assert_close(sum(per_bucket), g_total)


# ------------------------------------------------------------------------------ pair_weights

# 4 pairs: buckets a a a b, languages en zh zh zh.
# g_b: N=4, B=2: raw_a = max(0, 4/6 − 1) = 0, raw_b = 4/2 − 1 = 1 → g_b = [0, 0, 0, 1]
# g_lang: raw_en = 4/2 − 1 = 1, raw_zh = 0 → g_lang = [1, 0, 0, 0]
# critic: max(0, s⁻ − s⁺) = [0.5, 0, 0, 1.0]
PB, PL = ["a", "a", "a", "b"], ["en", "zh", "zh", "zh"]
SP, SN = [0.1, 0.5, 0.2, 0.0], [0.6, 0.3, 0.2, 1.0]


def test_pair_weights_hand():
    # w = 1 + 0.5 g_b + 1.0 c + 0.25 g_lang = [1 + 0.5 + 0.25, 1, 1, 1 + 0.5 + 1.0]
    np.testing.assert_allclose(pair_weights(PB, PL, SP, SN), [1.75, 1.0, 1.0, 2.5])


def test_pair_weights_switches():
    np.testing.assert_allclose(pair_weights(PB, PL, SP, SN, use_bucket=False), [1.75, 1, 1, 2.0])
    np.testing.assert_allclose(pair_weights(PB, PL, SP, SN, use_critic=False), [1.25, 1, 1, 1.5])
    np.testing.assert_allclose(pair_weights(PB, PL, SP, SN, use_language=False), [1.5, 1, 1, 2.5])
    np.testing.assert_allclose(
        pair_weights(PB, PL, None, None, use_bucket=False, use_critic=False, use_language=False),
        np.ones(4),
    )


def test_pair_weights_clip():
    # β_w = 2: pair 3 → 1 + 0.5 + 2·1.0 = 3.5 → w_max 3; α = −2 without critic: pair 3 → 1 − 2 = −1 → w_min 0.5
    np.testing.assert_allclose(pair_weights(PB, PL, SP, SN, beta_w=2.0), [2.25, 1, 1, 3.0])
    np.testing.assert_allclose(pair_weights(PB, PL, alpha=-2.0, use_critic=False), [1.25, 1, 1, 0.5])


def test_inverse_frequency_gain_fractional_and_balanced():
    # N = 7, counts a:4 b:2 c:1, K = 3: raw = [0, 7/6 − 1, 7/3 − 1] = [0, 1/6, 4/3] → g = [0, 1/8, 1]
    g = inverse_frequency_gain(["a"] * 4 + ["b"] * 2 + ["c"])
    np.testing.assert_allclose(g, [0] * 4 + [1 / 8] * 2 + [1.0])
    np.testing.assert_array_equal(inverse_frequency_gain(["en", "zh"] * 3), np.zeros(6))


def test_pair_weights_errors():
    with pytest.raises(ValueError, match="NaN"):
        pair_weights(PB, PL, [0.1, float("nan"), 0, 0], SN)
    with pytest.raises(ValueError, match="NaN"):
        pair_weights(PB, PL, SP, [0.1, 0, 0, float("nan")], use_critic=False)
    with pytest.raises(ValueError):
        pair_weights(PB, PL)  # critic term on, no scores
    with pytest.raises(ValueError):
        pair_weights([], [], [], [])
    with pytest.raises(ValueError):
        pair_weights(PB, PL[:3], SP, SN)
    with pytest.raises(ValueError):
        pair_weights(PB, PL, SP, SN, w_min=2.0, w_max=1.0)


# ---------------------------------------------------------------------------- back-off (docs/method.md §4)
# A: 4 examples, B: 1 (same parent P1 as A), C: 2 (parent P2); min_size 2.
BO_IDS = ["A"] * 4 + ["B"] + ["C"] * 2
BO_PARENTS = [("P1", "en")] * 5 + [("P2", "en")] * 2


def test_backoff_units_by_hand():
    units, sizes = backoff_units(BO_IDS, BO_PARENTS, min_size=2)
    assert units == ["A"] * 4 + [("backoff", "P1")] + ["C"] * 2
    np.testing.assert_array_equal(sizes, [4, 4, 4, 4, 5, 2, 2])  # B weighs as the whole parent P1 (A + B)


def test_backoff_weights_by_hand():
    # raw n_u^-1 = 1/4 (x4), 1/5, 1/2 (x2); sum 2.2; w = raw * 7 / 2.2
    w = bucket_weights(BO_IDS, tau=1.0, parent_ids=BO_PARENTS, min_size=2)
    np.testing.assert_allclose(w, [7 / 8.8] * 4 + [7 / 11] + [7 / 4.4] * 2)
    assert w.mean() == pytest.approx(1.0)
    # without back-off B alone would carry a whole bucket's mass: w_B = 7 / (3 * 1)
    assert bucket_weights(BO_IDS, tau=1.0)[4] == pytest.approx(7 / 3)
    # min_size 1 or no parents: the paper's weights
    np.testing.assert_allclose(
        bucket_weights(BO_IDS, parent_ids=BO_PARENTS, min_size=1), bucket_weights(BO_IDS)
    )


def test_backoff_goes_up_the_ancestors_then_to_everything():
    ids = ["A"] * 3 + ["B", "C", "D"]
    parents = [("P1", "en")] * 3 + [("P2", "en"), ("P3", "zh"), ("P4", "ja")]
    units, sizes = backoff_units(ids, parents, min_size=3)
    # B: parent P2 has 1 < 3 -> language en has 4 -> en; C: P3 1, zh 1 -> everything (6); D likewise
    assert units[3:] == [("backoff", "en"), ("backoff", "all"), ("backoff", "all")]
    np.testing.assert_array_equal(sizes, [3, 3, 3, 4, 6, 6])
    with pytest.raises(ValueError, match="parent"):
        backoff_units(ids, parents[:-1], min_size=3)


def test_loss_mass_shares_by_hand():
    w = [1.0, 1.0, 1.0, 1.0, 4.0]
    langs = ["en", "en", "en", "en", "zh"]
    ids = ["A"] * 4 + ["B"]
    shares = loss_mass_shares(w, langs, ids, min_size=2)
    assert shares["by_language"] == {
        "en": {"loss_mass": 0.5, "examples": 0.8},
        "zh": {"loss_mass": 0.5, "examples": 0.2},
    }
    assert shares["by_bucket_size"] == {
        "2-9": {"loss_mass": 0.5, "examples": 0.8},
        "<2": {"loss_mass": 0.5, "examples": 0.2},
    }
    assert shares["max_weight"] == 4.0
    assert size_class(9, 2) == "2-9" and size_class(10, 2) == "10-49" and size_class(50, 2) == ">=50"


# ---------------------------------------------------------------------------- pair weights: mean 1, language balance
def test_rescale_pair_weights_by_hand():
    clipped = [0.5, 1.5, 3.0, 1.0]  # en, en, en, zh
    langs = ["en", "en", "en", "zh"]
    # mean 1: sum 6 -> x 4/6
    np.testing.assert_allclose(
        rescale_pair_weights(clipped, langs, language_balance=False), [1 / 3, 1.0, 2.0, 2 / 3]
    )
    # balanced: each language carries 4/2 = 2; en sum 5 -> x 2/5, zh sum 1 -> x 2
    w = rescale_pair_weights(clipped, langs, language_balance=True)
    np.testing.assert_allclose(w, [0.2, 0.6, 1.2, 2.0])
    assert w.mean() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="aligned"):
        rescale_pair_weights(clipped, langs[:3])
    with pytest.raises(ValueError, match="> 0"):
        rescale_pair_weights([0.0, 1.0], ["en", "zh"])
