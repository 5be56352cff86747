"""The pooled two-level bootstrap: training seeds, then test prompts, paired across systems.

Point estimate of a metric = the mean over seeds of its per-seed value. Replicate r draws S
seeds with replacement (counts C[r, s]) and one set of test prompts with replacement, within
each language (counts W[r, i]); its value is the mean over the drawn seeds of the metric on the
drawn prompts, sum_s C[r, s] m_s(W[r]) / S. Seeds and prompts are crossed, not nested: every
seed answered the same test prompts, so a replicate applies one prompt draw to all its seeds
(a hard prompt is hard for every seed, and drawing it again for each seed would average that
away). Every system sees the same W and C, so replicate r of two systems can be subtracted
(paired differences), and a seed's own prompt-only interval uses the same W.

Interval: `ci_summary`, the median-centred percentile interval of the replicates.
tests/evaluation/test_pooled.py checks its coverage by simulation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from polyalign.io import InputError, atomic_path

from .replicates import ResampleArrays, weighted_replicates
from .scope_metrics import HEADLINE_METRICS, METRIC_BOUNDS

REPLICATES_FORMAT = "polyalign.replicates.v1"


def draw_counts(
    languages: Sequence[str], n_seeds: int, n_resamples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(W [R, n] prompt counts, drawn within each language; C [R, S] seed counts)."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(languages)
    n = labels.size
    W = np.zeros((n_resamples, n), dtype=np.int64)
    offsets = np.arange(n_resamples)[:, None] * n
    for lang in sorted(set(labels.tolist())):
        group = np.flatnonzero(labels == lang)
        drawn = group[rng.integers(0, group.size, size=(n_resamples, group.size))]
        W += np.bincount((offsets + drawn).ravel(), minlength=n_resamples * n).reshape(n_resamples, n)
    drawn_seeds = rng.integers(0, n_seeds, size=(n_resamples, n_seeds))
    C = np.bincount(
        (np.arange(n_resamples)[:, None] * n_seeds + drawn_seeds).ravel(), minlength=n_resamples * n_seeds
    ).reshape(n_resamples, n_seeds)
    return W, C


def pool_over_seeds(per_seed: np.ndarray, C: np.ndarray) -> np.ndarray:
    """sum_s C[r, s] m[s, r] / S: the mean over the drawn seeds of their replicate values;
    NaN where a drawn seed's value is NaN."""
    per_seed = np.asarray(per_seed, dtype=float)
    drawn = C.T > 0
    out = (C.T * np.where(drawn, per_seed, 0.0)).sum(axis=0) / C.shape[1]
    out[(drawn & ~np.isfinite(per_seed)).any(axis=0)] = np.nan
    return out


def ci_summary(
    point: float, replicates, alpha: float, bounds: tuple[float, float] = (-np.inf, np.inf)
) -> dict:
    """Median-centred percentile interval of the finite replicates around `point`.

    With q_lo, q_hi the (alpha/2, 1 - alpha/2) quantiles and m the median of the replicates:
    low = point - (m - q_lo), high = point + (q_hi - m), i.e. the percentile interval shifted by
    the resampling bias m - point. Plug-in distribution distances (W1, MAUVE) computed on a
    resample with repeated prompts are biased, often so much that the plain percentile interval
    misses the point estimate; the shift removes that bias and keeps width and skew (docs/
    evaluation.md). The interval is clipped to the metric's range `bounds`. The plain percentile
    bounds are kept as pct_low / pct_high.
    """
    values = np.asarray(replicates if replicates is not None else [], dtype=float)
    finite = values[np.isfinite(values)]
    nan = float("nan")
    out = {
        "point": float(point),
        "low": nan,
        "high": nan,
        "std": nan,
        "pct_low": nan,
        "pct_high": nan,
        "bootstrap_median": nan,
        "alpha": alpha,
        "n_resamples": int(values.size),
        "n_finite": int(finite.size),
    }
    if finite.size and math.isfinite(float(point)):
        q_lo, median, q_hi = (float(q) for q in np.quantile(finite, [alpha / 2, 0.5, 1 - alpha / 2]))
        lo_bound, hi_bound = bounds
        out.update(
            {
                "low": float(np.clip(float(point) - (median - q_lo), lo_bound, hi_bound)),
                "high": float(np.clip(float(point) + (q_hi - median), lo_bound, hi_bound)),
                "pct_low": q_lo,
                "pct_high": q_hi,
                "bootstrap_median": median,
                "std": float(finite.std(ddof=1)) if finite.size > 1 else nan,
            }
        )
    return out


def _check_aligned(arrays: Mapping[str, Mapping[object, ResampleArrays]]) -> tuple[list, list]:
    first = None
    seeds = None
    for system, by_seed in arrays.items():
        if seeds is None:
            seeds = list(by_seed)
        elif list(by_seed) != seeds:
            raise InputError(f"system {system!r} has seeds {list(by_seed)}, others {seeds}")
        for seed, a in by_seed.items():
            key = (a.ids, a.languages.tolist())
            if first is None:
                first = key
            elif key != first:
                raise InputError(
                    f"{system!r} seed {seed} was evaluated on other test prompts (ids or their order differ)"
                )
    if first is None:
        raise InputError("pooled bootstrap: no systems given")
    return seeds, first[1]


def pooled_replicates(
    arrays: Mapping[str, Mapping[object, ResampleArrays]], n_resamples: int, seed: int
) -> dict:
    """{system: {scope: {metric: per-seed replicates [S, R]}}} and the seed counts C.

    arrays: {system: {seed: ResampleArrays}} with the same seeds for every system.
    """
    seeds, languages = _check_aligned(arrays)
    W, C = draw_counts(languages, len(seeds), n_resamples, seed)
    out = {}
    for system, by_seed in arrays.items():
        per_seed = [weighted_replicates(a, W) for a in by_seed.values()]
        out[system] = {
            scope: {m: np.stack([reps[scope][m] for reps in per_seed]) for m in HEADLINE_METRICS}
            for scope in per_seed[0]
        }
    return {"seeds": seeds, "C": C, "per_seed": out}


def headline_intervals(
    points: Mapping[str, Mapping[str, Mapping[str, Sequence[float]]]], replicates: dict, alpha: float
) -> dict:
    """headline[system][scope][metric]: the pooled interval plus each seed's own.

    points[system][scope][metric] = per-seed point estimates (seed order of `replicates`).
    """
    C, seeds = replicates["C"], replicates["seeds"]
    out = {}
    for system, scopes in replicates["per_seed"].items():
        out[system] = {}
        for scope, metrics in scopes.items():
            out[system][scope] = {}
            for m, per_seed in metrics.items():
                seed_points = np.asarray(points[system][scope][m], dtype=float)
                ci = ci_summary(
                    float(seed_points.mean()), pool_over_seeds(per_seed, C), alpha, METRIC_BOUNDS[m]
                )
                ci["seeds"] = {
                    str(s): {
                        k: v
                        for k, v in ci_summary(p, per_seed[j], alpha, METRIC_BOUNDS[m]).items()
                        if k in ("point", "low", "high")
                    }
                    for j, (s, p) in enumerate(zip(seeds, seed_points))
                }
                out[system][scope][m] = ci
    return out


def paired_difference(
    replicates: dict,
    points: Mapping,
    a: str,
    b: str,
    scope: str,
    metric: str,
    alpha: float,
    seed_index: int | None = None,
) -> dict:
    """Interval of metric(a) - metric(b): pooled (seed_index None) or of one seed, from the
    same draws for both systems. points[system][scope][metric] = per-seed point estimates."""
    per_seed = replicates["per_seed"]
    for s in (a, b):
        if s not in per_seed:
            raise InputError(f"no replicates for system {s!r}")
    pa = np.asarray(points[a][scope][metric], dtype=float)
    pb = np.asarray(points[b][scope][metric], dtype=float)
    ra, rb = per_seed[a][scope][metric], per_seed[b][scope][metric]
    if seed_index is None:
        C = replicates["C"]
        return ci_summary(
            float(pa.mean() - pb.mean()), pool_over_seeds(ra, C) - pool_over_seeds(rb, C), alpha
        )
    return ci_summary(float(pa[seed_index] - pb[seed_index]), ra[seed_index] - rb[seed_index], alpha)


def save_replicates(path, replicates: dict) -> None:
    arrays = {"C": replicates["C"], "seeds": np.asarray([str(s) for s in replicates["seeds"]])}
    for system, scopes in replicates["per_seed"].items():
        for scope, metrics in scopes.items():
            for m, values in metrics.items():
                arrays[f"{system}/{scope}/{m}"] = values
    arrays["format"] = np.asarray(REPLICATES_FORMAT)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)


def load_replicates(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        if "format" not in z.files or str(z["format"]) != REPLICATES_FORMAT:
            raise InputError(f"{path}: not a replicates file ({REPLICATES_FORMAT})")
        per_seed: dict = {}
        for key in z.files:
            if key.count("/") == 2:
                system, scope, m = key.split("/")
                per_seed.setdefault(system, {}).setdefault(scope, {})[m] = z[key]
        return {"C": z["C"], "seeds": [str(s) for s in z["seeds"]], "per_seed": per_seed}
