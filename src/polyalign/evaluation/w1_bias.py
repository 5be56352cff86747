"""Intervals for W1-type statistics (BNG, BNG-robust): the plug-in's bias is bracketed, not estimated.

The plug-in W1 is the integral of |D_n(x)|, D_n = F_n - G_m the difference of the two empirical
CDFs, and D_n = D + e with D the population difference and e the sampling noise. Pointwise
E|D + e| >= |D|, so the plug-in is biased upward, most where D = 0 (a system whose outputs
follow the human distribution: there the whole plug-in is bias) and hardly at all where |D| is
many standard errors. The bootstrap's bias estimate E*|D_n + e*| - |D_n| removes about 40% of
the bias at D = 0 and over-corrects where |D| is one or two standard errors, and no estimator
is right at both ends (docs/evaluation.md, "BNG and BNG-robust"). So the interval of a
W1-type statistic keeps the plug-in and brackets its bias instead:

- the bias is >= 0 (pointwise Jensen), so the upper end needs no correction;
- at a point x, the bias E|D + e| - |D| falls as D moves away from 0 (its derivative is
  -2 P(e < -D) for D > 0, whatever the noise's law), so for any l between 0 and D it is at
  most E|l + e| - |l|. With l = D_n(x) shrunk towards 0 by `SHRINK_SE` bootstrap standard
  errors (a soft threshold, sign kept), l lies between 0 and D except with small probability,
  and the bootstrap gives E|l + e| through e* = D*_n - D_n.

In a Gaussian model (e ~ N(0, s^2) at x) the bound with 2 standard errors averages 0.785 s where
the true bias is 0.798 s (D = 0), and exceeds the true bias where |D| is 1-3 s (0.74 s against
0.17 s at |D| = s): the price of not knowing there whether a small CDF difference is real.
With 0 standard errors the bound is the bootstrap bias estimate itself (0.33 s at D = 0).
"""

from __future__ import annotations

import numpy as np

# the metrics whose intervals bracket the bias (`pooled.headline_intervals`, `pooled.paired_difference`)
W1_METRICS = ("bng_macro", "bng_weighted", "bng_robust_macro", "bng_robust_weighted")
SHRINK_SE = 2.0  # standard errors by which |D_n| is shrunk before it bounds the bias


def bias_excess(full: np.ndarray, reps: np.ndarray, n: int, shrink: float = SHRINK_SE) -> np.ndarray:
    """Per grid cell, an upper bound on E|D_n| - |D| (the plug-in's bias there).

    full [..., K]: the CDF difference D_n on the full data; reps [..., R, K]: the same on the
    prompt draws; n: the prompts the CDFs read (the bootstrap's spread is inflated by
    sqrt(n / (n - 1)), the factor of the prompt component in `pooled.seed_prompt_bounds`).
    Returns mean_r |l + e_r| - |l|, e = reps - full, l = full soft-thresholded at `shrink`
    standard deviations of e.
    """
    full = np.asarray(full, dtype=float)
    e = (np.asarray(reps, dtype=float) - full[..., None, :]) * np.sqrt(n / (n - 1) if n > 1 else 1.0)
    threshold = shrink * e.std(axis=-2)
    shrunk = np.sign(full) * np.maximum(np.abs(full) - threshold, 0.0)
    return np.abs(shrunk[..., None, :] + e).mean(axis=-2) - np.abs(shrunk)


def bracket_bias(b: dict, bias_low, bias_high) -> dict:
    """A `seed_prompt_bounds` interval with the point's bias bracketed, bias in
    [bias_low, bias_high], instead of estimated: [point - bias_high - half, point - bias_low +
    half] (the worst case of each end plus the sampling half-width). `centre` becomes the middle
    of the bracket; bias_low and bias_high are returned with it."""
    low_bias = np.asarray(bias_low, dtype=float)
    high_bias = np.asarray(bias_high, dtype=float)
    point, half = b["point"], b["half"]
    return {
        **b,
        "centre": np.where(np.isfinite(half), point - (low_bias + high_bias) / 2, np.nan),
        "low": point - high_bias - half,
        "high": point - low_bias + half,
        "bias_low": low_bias,
        "bias_high": high_bias,
    }


def single_bias(bounds) -> tuple:
    """Bias bracket of one system's seed mean from its per-seed bounds [..., S]: [0, mean]."""
    high = np.asarray(bounds, dtype=float).mean(axis=-1)
    return np.zeros_like(high), high


def difference_bias(bounds_a, bounds_b) -> tuple:
    """Bias bracket of (A - B)'s seed mean: each system's bias lies in [0, its bound], so the
    difference's lies in [-bound B, bound A]."""
    return -np.asarray(bounds_b, dtype=float).mean(axis=-1), np.asarray(bounds_a, dtype=float).mean(axis=-1)
