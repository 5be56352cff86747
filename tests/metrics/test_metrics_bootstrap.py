"""Seeded percentile bootstrap over prompts."""

import numpy as np
import pytest

from polyalign.metrics.bootstrap import bootstrap_ci, bootstrap_mean_ci, resample_indices


def test_point_and_interval_of_a_mean():
    values = np.random.default_rng(3).normal(loc=2.0, size=200)
    out = bootstrap_ci(lambda idx: values[idx].mean(), values, n_resamples=300, seed=42)
    assert out["point"] == pytest.approx(values.mean())
    assert out["low"] < out["point"] < out["high"]
    # standard error of the mean ~ 1/sqrt(200) = 0.0707: the 95% interval is about 0.28 wide
    assert 0.18 < out["high"] - out["low"] < 0.38
    assert out == bootstrap_ci(lambda idx: values[idx].mean(), len(values), n_resamples=300, seed=42)
    assert out != bootstrap_ci(lambda idx: values[idx].mean(), values, n_resamples=300, seed=7)


def test_vectorised_mean_matches_generic():
    values = np.arange(10, dtype=float) ** 2
    generic = bootstrap_ci(lambda idx: values[idx].mean(), values, n_resamples=50, seed=1)
    fast = bootstrap_mean_ci(values, n_resamples=50, seed=1, chunk=7)
    assert fast["low"] == pytest.approx(generic["low"]) and fast["high"] == pytest.approx(generic["high"])


def test_degenerate_cases():
    out = bootstrap_ci(lambda idx: 5.0, [0], n_resamples=20)
    assert out["point"] == out["low"] == out["high"] == 5.0
    # NaN resamples are left out of the quantiles and counted
    out = bootstrap_ci(lambda idx: np.nan if idx[0] == 0 else 1.0, 3, n_resamples=60, seed=0)
    assert 0 < out["n_finite"] < 60 and out["low"] == out["high"] == 1.0
    with pytest.raises(ValueError):
        bootstrap_ci(lambda idx: 0.0, [], n_resamples=5)
    with pytest.raises(ValueError):
        bootstrap_ci(lambda idx: 0.0, [1], alpha=1.5)


def test_strata_keep_per_language_counts():
    langs = np.array(["en"] * 7 + ["zh"] * 3)
    for idx in resample_indices(10, 20, seed=0, strata=langs):
        assert (langs[idx] == "zh").sum() == 3
    out = bootstrap_ci(lambda idx: float((langs[idx] == "en").mean()), 10, n_resamples=20, strata=langs)
    assert out["low"] == out["high"] == 0.7
