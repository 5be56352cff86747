"""Seeded percentile bootstrap over test prompts (docs/method.md §9: every headline number gets a CI).

The metric function receives an index array (prompts drawn with replacement) and returns a
float, so any metric over prompts, including per-bucket macro metrics, can be bootstrapped.
For per-language headline numbers pass the prompts of one language as `items`, or pass
`strata` (e.g. the language of every prompt) to resample within each stratum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from polyalign.config import block_defaults

# Keyword defaults are the config schema's evaluation.bootstrap block (the one place they are written).
_BOOTSTRAP = block_defaults("evaluation", "bootstrap")


def _n_items(items) -> int:
    if isinstance(items, (int, np.integer)):
        return int(items)
    return len(items)


def resample_indices(
    n_items: int, n_resamples: int, seed: int, strata: Sequence | None = None
) -> Iterator[np.ndarray]:
    """Yield `n_resamples` index arrays of length n_items, drawn with replacement.

    With strata, each resample draws |stratum| indices from every stratum (sorted stratum
    order), so stratum sizes stay fixed.
    """
    rng = np.random.default_rng(seed)
    if strata is None:
        for _ in range(n_resamples):
            yield rng.integers(0, n_items, size=n_items)
        return
    labels = np.asarray(strata)
    if labels.shape[0] != n_items:
        raise ValueError(f"strata has {labels.shape[0]} labels for {n_items} items")
    groups = [np.flatnonzero(labels == s) for s in sorted(set(labels.tolist()))]
    for _ in range(n_resamples):
        yield np.concatenate([g[rng.integers(0, g.size, size=g.size)] for g in groups])


def _summary(
    point: float, values: np.ndarray, n_items: int, n_resamples: int, seed: int, alpha: float
) -> dict:
    finite = values[np.isfinite(values)]
    if finite.size:
        low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
        std = float(finite.std(ddof=1)) if finite.size > 1 else float("nan")
    else:
        low = high = std = float("nan")
    return {
        "point": float(point),
        "low": float(low),
        "high": float(high),
        "std": std,
        "alpha": alpha,
        "n_resamples": n_resamples,
        "n_finite": int(finite.size),
        "n_items": n_items,
        "seed": seed,
    }


def bootstrap_ci(
    metric_fn: Callable[[np.ndarray], float],
    items,
    n_resamples: int = _BOOTSTRAP["n_resamples"],
    seed: int = _BOOTSTRAP["seed"],
    alpha: float = _BOOTSTRAP["alpha"],
    strata: Sequence | None = None,
) -> dict:
    """Point estimate metric_fn(arange(n)) and the percentile (alpha/2, 1 − alpha/2) interval.

    `items` is the sequence of prompts (only its length is used) or their number. Resamples
    whose metric is non-finite (e.g. a macro over buckets that all became too small) are left
    out of the quantiles and counted in `n_finite`.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    n = _n_items(items)
    if n == 0:
        raise ValueError("bootstrap_ci needs at least one item")
    point = metric_fn(np.arange(n))
    values = np.array([metric_fn(idx) for idx in resample_indices(n, n_resamples, seed, strata)], dtype=float)
    return _summary(point, values, n, n_resamples, seed, alpha)


def bootstrap_mean_ci(
    values,
    n_resamples: int = _BOOTSTRAP["n_resamples"],
    seed: int = _BOOTSTRAP["seed"],
    alpha: float = _BOOTSTRAP["alpha"],
    strata: Sequence | None = None,
    chunk: int = 256,
) -> dict:
    """Vectorised bootstrap of the mean of per-prompt values (same draws as bootstrap_ci)."""
    vals = np.asarray(values, dtype=float)
    n = vals.shape[0]
    if n == 0:
        raise ValueError("bootstrap_mean_ci needs at least one value")
    means = np.empty(n_resamples)
    draws = resample_indices(n, n_resamples, seed, strata)
    for start in range(0, n_resamples, chunk):
        stop = min(start + chunk, n_resamples)
        block = np.stack([next(draws) for _ in range(start, stop)])
        means[start:stop] = vals[block].mean(axis=1)
    return _summary(float(vals.mean()), means, n, n_resamples, seed, alpha)
