"""Bootstrap replicates of a scope's headline metrics and their percentile intervals.

Draws come from `polyalign.metrics.bootstrap.resample_indices` (seeded, prompts drawn with
replacement, within each language for the pooled scope). Two systems evaluated on the same test
split with the same seed and counts therefore see identical resampled prompt sets, and their
replicate lists can be subtracted element-wise (paired bootstrap, `paired.py`).

Two tiers: the cheap metrics get `n_resamples` replicates; the MAUVE tier (G-/C-MAUVE, TDM, NUF,
Aggregate: every resample reruns k-means) gets the first `n_resamples_expensive` of the same draws.
"""
from __future__ import annotations

import logging
import time

import numpy as np

from polyalign.metrics.bootstrap import resample_indices

from .rows import EvalRows
from .scope_metrics import (CHEAP_METRICS, EXPENSIVE_METRICS, cheap_metrics, expensive_metrics,
                            headline_values)
from .settings import EvaluationSettings

log = logging.getLogger("polyalign.evaluation")


def ci_summary(point: float, replicates, alpha: float,
               bounds: tuple[float, float] = (-np.inf, np.inf)) -> dict:
    """Median-centred percentile interval of the finite replicates around `point`.

    With q_lo, q_hi the (alpha/2, 1 - alpha/2) quantiles and m the median of the replicates:
    low = point - (m - q_lo), high = point + (q_hi - m), i.e. the percentile interval shifted by
    the resampling bias m - point. Plug-in distribution distances (W1, MAUVE) computed on a
    resample with repeated prompts are biased, often so much that the plain percentile interval
    misses the point estimate; the shift removes that bias and keeps width and skew (docs/
    evaluation.md). The interval is clipped to the metric's range `bounds` (the shift can
    otherwise pass e.g. MAUVE = 1). The plain percentile bounds are kept as pct_low / pct_high.
    """
    values = np.asarray(replicates if replicates is not None else [], dtype=float)
    finite = values[np.isfinite(values)]
    nan = float("nan")
    out = {"point": float(point), "low": nan, "high": nan, "std": nan, "pct_low": nan,
           "pct_high": nan, "bootstrap_median": nan, "alpha": alpha,
           "n_resamples": int(values.size), "n_finite": int(finite.size)}
    if finite.size:
        q_lo, median, q_hi = (float(q) for q in np.quantile(finite, [alpha / 2, 0.5, 1 - alpha / 2]))
        lo_bound, hi_bound = bounds
        out.update({"low": float(np.clip(float(point) - (median - q_lo), lo_bound, hi_bound)),
                    "high": float(np.clip(float(point) + (q_hi - median), lo_bound, hi_bound)),
                    "pct_low": q_lo, "pct_high": q_hi, "bootstrap_median": median,
                    "std": float(finite.std(ddof=1)) if finite.size > 1 else nan})
    return out


def bootstrap_replicates(rows: EvalRows, scope_idx: np.ndarray, strata, eligible: list[str],
                         settings: EvaluationSettings, expensive: bool,
                         label: str = "") -> dict[str, list[float]]:
    """Replicate values of every headline metric of the scope (expensive tier when asked)."""
    bs = settings.bootstrap
    n_expensive = bs.n_resamples_expensive if expensive else 0
    reps: dict[str, list[float]] = {m: [] for m in CHEAP_METRICS}
    reps.update({m: [] for m in EXPENSIVE_METRICS} if n_expensive else {})
    t0 = time.time()
    draws = resample_indices(len(scope_idx), bs.n_resamples, bs.seed, strata)
    for r, draw in enumerate(draws):
        idx = scope_idx[draw]
        cheap = cheap_metrics(rows, idx, eligible, settings, resample=True)
        exp = expensive_metrics(rows, idx, eligible, settings, cheap) if r < n_expensive else None
        for name, value in headline_values(cheap, exp).items():
            reps[name].append(value)
        if (r + 1) % 100 == 0 or r + 1 == n_expensive:
            log.info("%s: %d/%d resamples (%d with the MAUVE tier), %.1f s", label, r + 1,
                     bs.n_resamples, min(r + 1, n_expensive), time.time() - t0)
    return reps
