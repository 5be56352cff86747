"""BNG, BNG-robust, HCR and per-feature inside rates (hand-computed cases)."""

import math

import numpy as np
import pytest

from polyalign.metrics.distributional import bng, bng_robust, empirical_cdf, feature_gaps, hcr

NAN = float("nan")


def _buckets():
    human = {
        # f0: [0,1,2,3], population std = sqrt(1.25); f1 constant -> std floor -> 1
        "A": np.array([[0, 5], [1, 5], [2, 5], [3, 5]], dtype=float),
        # f1 out of scope for B (NaN on both sides)
        "B": np.array([[0, NAN], [0, NAN], [1, NAN], [1, NAN]], dtype=float),
    }
    generated = {
        "A": np.array([[1, 5], [2, 5], [3, 6], [4, 6]], dtype=float),
        "B": np.array([[0, NAN], [0, NAN]], dtype=float),
    }
    return human, generated


def test_bng_hand_case():
    human, generated = _buckets()
    out = bng(human, generated, min_bucket_size=4, feature_names=["f0", "f1"])
    # A: f0 W1 = 1 (shift by one) / sqrt(1.25) = 0.894427; f1 W1 = 0.5 / 1 -> mean 0.697214
    a = (1 / math.sqrt(1.25) + 0.5) / 2
    # B: only f0; W1([0,0], [0,0,1,1]) = 0.5, std 0.5 -> 1.0
    assert out["per_bucket"] == pytest.approx({"A": a, "B": 1.0})
    assert out["per_feature"]["B"] == {"f0": pytest.approx(1.0)}
    assert out["macro"] == pytest.approx((a + 1.0) / 2)  # 0.848607
    assert out["weighted"] == pytest.approx((4 * a + 2 * 1.0) / 6)  # 0.798142
    assert out["n_generated"] == {"A": 4, "B": 2}


def test_bng_robust_hand_case():
    human, generated = _buckets()
    out = bng_robust(human, generated, min_bucket_size=4)
    # A f0: F_h maps human to [.25,.5,.75,1] and generated [1,2,3,4] to [.5,.75,1,1]:
    # W1 = (.25 + .25 + .25 + 0) / 4 = 0.1875. A f1: human all 5 -> [1]*4; generated [5,5,6,6]
    # -> [1,1,1,1]: W1 = 0
    assert out["per_bucket"]["A"] == pytest.approx((0.1875 + 0.0) / 2)
    # B f0: human [0,0,1,1] -> [.5,.5,1,1], generated [0,0] -> [.5,.5]: W1 = 0.25
    assert out["per_bucket"]["B"] == pytest.approx(0.25)
    assert out["variant"] == "robust"


def test_robust_is_bounded_and_monotone_invariant():
    rng = np.random.default_rng(0)
    h = rng.lognormal(size=(50, 3))
    g = rng.lognormal(size=(40, 3)) * 1000  # heavy shift: paper BNG explodes
    robust = feature_gaps(h, g, robust=True)
    assert np.all((robust >= 0) & (robust <= 1))
    assert np.allclose(feature_gaps(np.log(h), np.log(g), robust=True), robust)
    assert feature_gaps(h, g).mean() > 100
    assert list(empirical_cdf(np.array([3.0, 1.0, 2.0]), np.array([0.0, 2.0, 9.0]))) == [0, 2 / 3, 1]


def test_identical_samples_give_zero():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 4))
    for fn in (bng, bng_robust):
        out = fn({"b": x}, {"b": x.copy()})
        assert out["macro"] == pytest.approx(0.0, abs=1e-12)


def test_bng_skips_and_errors():
    human, generated = _buckets()
    out = bng(human, {**generated, "C": np.zeros((3, 2))}, min_bucket_size=5)
    assert out["n_buckets"] == 0 and math.isnan(out["macro"])
    assert set(out["skipped"]) == {"A", "B", "C"}
    out = bng({**human, "D": np.zeros((30, 2))}, generated, min_bucket_size=4)
    assert out["skipped"] == {"D": "no generated rows"}
    bad = {"A": generated["A"].copy()}
    bad["A"][0, 0] = NAN  # NaN inside scope
    with pytest.raises(ValueError, match="in scope"):
        bng(human, bad, min_bucket_size=4)
    one_sided = {"B": np.array([[0.0, 1.0], [0.0, 2.0]])}
    with pytest.raises(ValueError, match="scope mismatch"):
        bng(human, one_sided, min_bucket_size=4)


def test_hcr_hand_case():
    names = ["f1", "f2"]
    refs = {
        "A": {"f1": {"q10": 0, "q90": 10}, "f2": {"q10": 1, "q90": 2}},
        "B": {"f1": {"q10": 0, "q90": 1}},  # f2 out of scope in B
    }
    generated = {
        # inside, f1 out, f2 out, inside (bounds inclusive) -> 2/4
        "A": np.array([[5, 1.5], [11, 1.5], [5, 3], [0, 2]]),
        # 0.5 in, 0.7 in, 2 out -> 2/3 (f2 NaN is fine: out of scope)
        "B": np.array([[0.5, NAN], [0.7, NAN], [2, NAN]]),
        "C": np.array([[0.0, 0.0]]),  # no reference -> skipped
    }
    out = hcr(generated, refs, names)
    assert out["per_bucket"] == pytest.approx({"A": 0.5, "B": 2 / 3})
    assert out["macro"] == pytest.approx((0.5 + 2 / 3) / 2)  # 0.583333
    assert out["weighted"] == pytest.approx((4 * 0.5 + 3 * 2 / 3) / 7)  # 0.571429
    assert out["per_feature_inside_rate"]["A"] == pytest.approx({"f1": 0.75, "f2": 0.75})
    assert out["per_feature_inside_rate_macro"] == pytest.approx({"f1": (0.75 + 2 / 3) / 2, "f2": 0.75})
    assert out["skipped"] == {"C": "no reference"}
    generated["A"][1, 1] = NAN
    with pytest.raises(ValueError, match="f2"):
        hcr(generated, refs, names)


def test_hcr_of_human_rows_inside_their_own_band():
    x = np.array([[1.0], [2.0], [3.0]])
    refs = {"b": {"f": {"q10": 1.0, "q90": 3.0, "q25": 2.0, "q75": 2.0}}}
    assert hcr({"b": x}, refs, ["f"])["macro"] == 1.0
    assert hcr({"b": x}, refs, ["f"], lower="q25", upper="q75")["macro"] == pytest.approx(1 / 3)
