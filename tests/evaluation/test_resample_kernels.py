"""The vectorised resample kernels equal the metric definitions (bng, bng_robust, hcr)."""
import numpy as np
import pytest

from polyalign.evaluation.resample_kernels import (joint_ranks, resampled_bng, resampled_hcr,
                                                   row_coverage)
from polyalign.metrics import bng, bng_robust, hcr


def _data(seed=0):
    rng = np.random.default_rng(seed)
    buckets = np.array(["a"] * 30 + ["b"] * 25 + ["c"] * 20)
    human = np.round(rng.normal(size=(75, 5)), 1)          # rounding makes ties
    generated = np.round(rng.normal(size=(75, 5)) * 1.5 + 0.3, 1)
    generated[buckets == "c", 2] = 7.0                      # a constant column
    for m in (human, generated):
        m[buckets == "b", 4] = np.nan                       # out of scope for bucket b
    return buckets, human, generated


def _groups(matrix, buckets, idx):
    return {b: matrix[idx[buckets[idx] == b]] for b in np.unique(buckets[idx])}


@pytest.mark.parametrize("seed", [0, 1])
def test_resampled_bng_equals_definition_on_resamples(seed):
    buckets, human, generated = _data(seed)
    h_rank, g_rank = joint_ranks(human, generated, buckets)
    rng = np.random.default_rng(seed + 10)
    for idx in [np.arange(75), rng.integers(0, 75, 75), rng.integers(0, 75, 75)]:
        h, g = _groups(human, buckets, idx), _groups(generated, buckets, idx)
        hr, gr = _groups(h_rank, buckets, idx), _groups(g_rank, buckets, idx)
        ref = bng(h, g, min_bucket_size=1)
        ref_robust = bng_robust(h, g, min_bucket_size=1)
        fast, fast_robust = resampled_bng(h, g), resampled_bng(h, g, True, hr, gr)
        for got, want in ((fast, ref), (fast_robust, ref_robust)):
            assert got["macro"] == pytest.approx(want["macro"], abs=1e-9)
            assert got["weighted"] == pytest.approx(want["weighted"], abs=1e-9)
            for b in want["per_bucket"]:
                assert got["per_bucket"][b] == pytest.approx(want["per_bucket"][b], abs=1e-9)


def test_unequal_sizes_fall_back_to_the_definition():
    buckets, human, generated = _data()
    h = {"a": human[:30], "c": human[55:]}
    g = {"a": generated[:20], "c": generated[55:]}     # bucket a: invalid rows left out
    hr, gr = joint_ranks(human, generated, buckets)
    for robust, want in ((False, bng(h, g, min_bucket_size=1)),
                         (True, bng_robust(h, g, min_bucket_size=1))):
        got = resampled_bng(h, g, robust, {"a": hr[:30], "c": hr[55:]}, {"a": gr[:20], "c": gr[55:]})
        assert got["macro"] == pytest.approx(want["macro"], abs=1e-9)
        assert got["weighted"] == pytest.approx(want["weighted"], abs=1e-9)


def test_resampled_hcr_equals_definition():
    buckets, _, generated = _data()
    refs = {"a": {f"f{j}": {"q10": -1.0, "q90": 1.0} for j in range(5)},
            "c": {f"f{j}": {"q10": -2.0, "q90": 2.0} for j in (0, 1, 3)}}
    names = [f"f{j}" for j in range(5)]
    covered = row_coverage(generated, buckets, refs, names)
    assert np.isnan(covered[buckets == "b"]).all()
    rng = np.random.default_rng(3)
    for idx in [np.arange(75), rng.integers(0, 75, 75)]:
        want = hcr(_groups(generated, buckets, idx), refs, names)
        got = resampled_hcr(covered, buckets, idx)
        assert got["macro"] == pytest.approx(want["macro"], abs=1e-12)
        assert got["weighted"] == pytest.approx(want["weighted"], abs=1e-12)
