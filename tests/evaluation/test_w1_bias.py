"""The bias bracket of W1-type statistics (BNG, BNG-robust): the bound per grid cell, its sums in
the BNG kernel, and the bracketed interval (coverage: test_interval_coverage.py)."""

import math

import numpy as np
import pytest

from polyalign.evaluation.kernels import bucket_gap_replicates
from polyalign.evaluation.pooled import seed_prompt_bounds
from polyalign.evaluation.w1_bias import bias_excess, bracket_bias, difference_bias, single_bias


def test_the_bound_runs_from_the_bootstrap_bias_to_the_triangle_bound():
    rng = np.random.default_rng(0)
    full = rng.normal(scale=0.2, size=(2, 5))
    reps = full[:, None, :] + rng.normal(scale=0.1, size=(2, 300, 5))
    k = math.sqrt(50 / 49)
    e = k * (reps - full[:, None, :])
    # no shrinkage: the bootstrap's own bias estimate (spread inflated by n / (n - 1))
    np.testing.assert_allclose(
        bias_excess(full, reps, 50, shrink=0.0), np.abs(full[:, None, :] + e).mean(axis=1) - np.abs(full)
    )
    # shrunk all the way: E|e|, the bias where the CDFs are equal (the triangle inequality's bound)
    np.testing.assert_allclose(bias_excess(full, reps, 50, shrink=1e9), np.abs(e).mean(axis=1))
    middle = bias_excess(full, reps, 50)
    assert (middle >= bias_excess(full, reps, 50, shrink=0.0) - 1e-12).all()
    assert (middle <= np.abs(e).mean(axis=1) + 1e-12).all()
    assert not bias_excess(full, np.repeat(full[:, None, :], 4, axis=1), 50).any()  # no spread, no bias


def _cdf(values, counts, grid):
    return np.array([(counts * (values <= x)).sum() for x in grid]) / counts.sum()


def test_the_kernel_sums_the_bound_like_the_gaps():
    """Paper: sum over cells of the bound times the cell width over std(human); robust: times the
    human CDF's step; both averaged over features. Checked against CDFs counted by hand."""
    rng = np.random.default_rng(1)
    h, g = rng.normal(size=(9, 3)), rng.normal(size=(7, 3)) + 0.3
    h[:, 0] = rng.integers(0, 3, size=9)  # ties
    W_h = rng.multinomial(9, np.ones(9) / 9, size=40).astype(float)
    W_g = rng.multinomial(7, np.ones(7) / 7, size=40).astype(float)
    paper, robust, bound, bound_robust = bucket_gap_replicates(h, g, W_h, W_g, bias_bounds=True)
    assert np.array_equal(paper, bucket_gap_replicates(h, g, W_h, W_g)[0])
    expected = np.zeros(2)
    for j in range(3):
        grid = np.unique(np.concatenate([h[:, j], g[:, j]]))
        full = _cdf(g[:, j], np.ones(7), grid) - _cdf(h[:, j], np.ones(9), grid)
        reps = np.array([_cdf(g[:, j], wg, grid) - _cdf(h[:, j], wh, grid) for wh, wg in zip(W_h, W_g)])
        excess = bias_excess(full, reps, 9)
        F_h = _cdf(h[:, j], np.ones(9), grid)
        expected += [
            (excess * np.diff(grid, append=grid[-1])).sum() / h[:, j].std(),
            (excess * np.diff(F_h, append=F_h[-1])).sum(),
        ]
    assert [bound, bound_robust] == pytest.approx(expected / 3, abs=1e-12)


def test_the_bracket_keeps_the_plug_in_and_widens_by_the_bias():
    points = np.array([0.40, 0.50, 0.45])
    reps = points[:, None] + np.random.default_rng(2).normal(scale=0.05, size=(3, 200)) + 0.1
    b = seed_prompt_bounds(points, reps, 0.05, 60)
    lo, hi = single_bias([0.2, 0.3, 0.1])
    out = bracket_bias(b, lo, hi)
    assert float(out["low"]) == pytest.approx(0.45 - 0.2 - float(b["half"]))
    assert float(out["high"]) == pytest.approx(0.45 + float(b["half"]))  # no resampling correction
    assert float(out["centre"]) == pytest.approx(0.45 - 0.1) and float(b["centre"]) < 0.45 - 0.05
    lo, hi = difference_bias([0.2, 0.3, 0.1], [0.05, 0.05, 0.05])
    assert (float(lo), float(hi)) == pytest.approx((-0.05, 0.2))
    none = bracket_bias(seed_prompt_bounds(points, reps[:, :1], 0.05, 60), lo, hi)  # one draw: no interval
    assert math.isnan(float(none["low"])) and math.isnan(float(none["centre"]))
