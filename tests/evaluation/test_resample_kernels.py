"""The vectorised resample kernels equal the metric definitions (bng, bng_robust, hcr) on
resamples written as prompt counts (macro and weighted over buckets, ties, constant and
out-of-scope columns, unequal sizes)."""

import numpy as np
import pytest

from polyalign.evaluation.kernels import bucket_gap_replicates, group_means, macro_weighted, weighted_mean
from polyalign.evaluation.rows import row_coverage
from polyalign.metrics.distributional import bng, bng_robust, hcr, in_scope_columns


def _data(seed=0):
    rng = np.random.default_rng(seed)
    buckets = np.array(["a"] * 30 + ["b"] * 25 + ["c"] * 20)
    human = np.round(rng.normal(size=(75, 5)), 1)  # rounding makes ties
    generated = np.round(rng.normal(size=(75, 5)) * 1.5 + 0.3, 1)
    generated[buckets == "c", 2] = 7.0  # a constant column
    for m in (human, generated):
        m[buckets == "b", 4] = np.nan  # out of scope for bucket b
    return buckets, human, generated


def _groups(matrix, buckets, idx):
    return {b: matrix[idx[buckets[idx] == b]] for b in np.unique(buckets[idx])}


def _counts(idx, n):
    return np.bincount(idx, minlength=n).astype(float)[None, :]


def resampled_bng(human, generated, buckets, w_h, w_g):
    """macro / weighted / per bucket of both BNG variants from the kernels: human rows with
    counts w_h [1, n], generated rows with counts w_g [1, n] (all rows of one matrix)."""
    out = {False: {}, True: {}}
    weights = {}
    for b in np.unique(buckets):
        rows = np.flatnonzero(buckets == b)
        hr, gr = rows[w_h[0, rows] > 0], rows[w_g[0, rows] > 0]
        if not hr.size or not gr.size:
            continue
        keep = in_scope_columns(human[hr], generated[gr], b)
        paper, robust = bucket_gap_replicates(
            human[hr][:, keep], generated[gr][:, keep], w_h[:, hr], w_g[:, gr]
        )
        out[False][b], out[True][b] = paper[0], robust[0]
        weights[b] = w_g[0, gr].sum()
    result = {}
    for robust, per_bucket in out.items():
        names = sorted(per_bucket)
        macro, weighted = macro_weighted(
            np.array([[per_bucket[b] for b in names]]), np.array([[weights[b] for b in names]])
        )
        result[robust] = {"macro": macro[0], "weighted": weighted[0], "per_bucket": per_bucket}
    return result[False], result[True]


@pytest.mark.parametrize("seed", [0, 1])
def test_resampled_bng_equals_definition_on_resamples(seed):
    buckets, human, generated = _data(seed)
    rng = np.random.default_rng(seed + 10)
    for idx in [np.arange(75), rng.integers(0, 75, 75), rng.integers(0, 75, 75)]:
        h, g = _groups(human, buckets, idx), _groups(generated, buckets, idx)
        ref = bng(h, g, min_bucket_size=1)
        ref_robust = bng_robust(h, g, min_bucket_size=1)
        w = _counts(idx, 75)
        fast, fast_robust = resampled_bng(human, generated, buckets, w, w)
        for got, want in ((fast, ref), (fast_robust, ref_robust)):
            assert got["macro"] == pytest.approx(want["macro"], abs=1e-9)
            assert got["weighted"] == pytest.approx(want["weighted"], abs=1e-9)
            for b in want["per_bucket"]:
                assert got["per_bucket"][b] == pytest.approx(want["per_bucket"][b], abs=1e-9)


def test_unequal_sizes_fall_back_to_the_definition():
    buckets, human, generated = _data()
    h = {"a": human[:30], "c": human[55:]}
    g = {"a": generated[:20], "c": generated[55:]}  # bucket a: invalid rows left out
    w_h, w_g = np.ones((1, 75)), np.ones((1, 75))
    w_h[0, 30:55] = w_g[0, 20:55] = 0  # bucket b not evaluated
    fast = dict(zip((False, True), resampled_bng(human, generated, buckets, w_h, w_g)))
    for robust, want in ((False, bng(h, g, min_bucket_size=1)), (True, bng_robust(h, g, min_bucket_size=1))):
        got = fast[robust]
        assert got["macro"] == pytest.approx(want["macro"], abs=1e-9)
        assert got["weighted"] == pytest.approx(want["weighted"], abs=1e-9)


def test_resampled_hcr_equals_definition():
    buckets, _, generated = _data()
    refs = {
        "a": {f"f{j}": {"q10": -1.0, "q90": 1.0} for j in range(5)},
        "c": {f"f{j}": {"q10": -2.0, "q90": 2.0} for j in (0, 1, 3)},
    }
    names = [f"f{j}" for j in range(5)]
    covered = row_coverage(generated, buckets, refs, names)
    assert np.isnan(covered[buckets == "b"]).all()
    rng = np.random.default_rng(3)
    for idx in [np.arange(75), rng.integers(0, 75, 75)]:
        want = hcr(_groups(generated, buckets, idx), refs, names)
        w = _counts(idx, 75)
        codes = np.unique(buckets, return_inverse=True)[1]
        rates, totals = group_means(w, covered, codes, 3)
        macro = np.nanmean(np.where(totals > 0, rates, np.nan))
        finite = np.isfinite(covered)
        weighted = weighted_mean(w[:, finite], covered[finite])[0]
        assert macro == pytest.approx(want["macro"], abs=1e-12)
        assert weighted == pytest.approx(want["weighted"], abs=1e-12)
