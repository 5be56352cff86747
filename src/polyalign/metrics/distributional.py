"""Feature-distribution metrics per bucket: BNG, BNG-robust, HCR and per-feature inside rates.

Inputs are per-bucket feature matrices (rows = responses, columns = features in one fixed order).
A column that is NaN for every row on both sides is a feature outside the bucket's language
scope and is dropped for that bucket; any other NaN is an error (docs/method.md §9, docs/metrics.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import wasserstein_distance

from polyalign.config import schema_default

STD_FLOOR = 1e-12
# Keyword default: the config schema's (the one place it is written).
_MIN_BUCKET_SIZE = schema_default("evaluation", "min_bucket_size")


def _matrix(values, bucket: str, side: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 0)
    if arr.ndim != 2:
        raise ValueError(f"bucket {bucket!r}: {side} features must be a 2-D matrix, got shape {arr.shape}")
    return arr


def _feature_label(j: int, feature_names: Sequence[str] | None) -> str:
    return repr(feature_names[j]) if feature_names is not None else f"#{j}"


def in_scope_columns(
    human: np.ndarray, generated: np.ndarray, bucket: str, feature_names: Sequence[str] | None = None
) -> np.ndarray:
    """Boolean mask of in-scope features; raises on NaNs inside scope or one-sided scope."""
    if human.shape[1] != generated.shape[1]:
        raise ValueError(
            f"bucket {bucket!r}: human has {human.shape[1]} features, generated has {generated.shape[1]}"
        )
    h_nan, g_nan = np.isnan(human), np.isnan(generated)
    h_out, g_out = h_nan.all(axis=0), g_nan.all(axis=0)
    for j in np.flatnonzero(h_out != g_out):
        side = "human" if h_out[j] else "generated"
        raise ValueError(
            f"bucket {bucket!r}: feature {_feature_label(j, feature_names)} is entirely "
            f"NaN on the {side} side only (scope mismatch)"
        )
    keep = ~h_out
    for j in np.flatnonzero(keep & (h_nan.any(axis=0) | g_nan.any(axis=0))):
        raise ValueError(
            f"bucket {bucket!r}: feature {_feature_label(j, feature_names)} is in scope but "
            f"has {int(h_nan[:, j].sum())} human and {int(g_nan[:, j].sum())} generated "
            f"NaN rows"
        )
    return keep


def empirical_cdf(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """F(x) = #{reference <= x} / n, the right-continuous empirical CDF of `reference`."""
    ref = np.sort(reference)
    return np.searchsorted(ref, values, side="right") / len(ref)


def feature_gaps(human: np.ndarray, generated: np.ndarray, robust: bool = False) -> np.ndarray:
    """Per-feature gap of one bucket (columns already in scope).

    paper:  W1(g_f, h_f) / std(h_f)   (population std; std <= 1e-12 -> 1)
    robust: W1(F_h(g_f), F_h(h_f))    with F_h the human empirical CDF (bounded in [0, 1])
    """
    gaps = np.empty(human.shape[1])
    for j in range(human.shape[1]):
        h, g = human[:, j], generated[:, j]
        if robust:
            gaps[j] = wasserstein_distance(empirical_cdf(h, g), empirical_cdf(h, h))
        else:
            std = float(np.std(h))
            gaps[j] = wasserstein_distance(g, h) / (std if std > STD_FLOOR else 1.0)
    return gaps


def _macro_weighted(values: dict[str, float], weights: dict[str, int]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    v = np.array(list(values.values()))
    w = np.array([weights[b] for b in values], dtype=float)
    return float(v.mean()), float((v * w).sum() / w.sum())


def bng(
    human: Mapping[str, np.ndarray],
    generated: Mapping[str, np.ndarray],
    *,
    min_bucket_size: int = _MIN_BUCKET_SIZE,
    robust: bool = False,
    feature_names: Sequence[str] | None = None,
) -> dict:
    """Bucketed Naturalness Gap (↓): per bucket the mean feature gap; macro and weighted.

    A bucket is evaluated when it has >= min_bucket_size human rows and >= 1 generated row;
    macro = mean over evaluated buckets, weighted = weighted by generated rows.
    """
    per_bucket: dict[str, float] = {}
    per_feature: dict[str, dict[str, float]] = {}
    n_generated: dict[str, int] = {}
    skipped: dict[str, str] = {}
    for bucket in sorted(set(human) | set(generated)):
        if bucket not in human:
            skipped[bucket] = "no human rows"
            continue
        h = _matrix(human[bucket], bucket, "human")
        if h.shape[0] < min_bucket_size:
            skipped[bucket] = f"{h.shape[0]} human rows < min_bucket_size {min_bucket_size}"
            continue
        if bucket not in generated or len(generated[bucket]) == 0:
            skipped[bucket] = "no generated rows"
            continue
        g = _matrix(generated[bucket], bucket, "generated")
        keep = in_scope_columns(h, g, bucket, feature_names)
        if not keep.any():
            skipped[bucket] = "no in-scope features"
            continue
        gaps = feature_gaps(h[:, keep], g[:, keep], robust=robust)
        per_bucket[bucket] = float(gaps.mean())
        n_generated[bucket] = int(g.shape[0])
        names = (
            [feature_names[j] for j in np.flatnonzero(keep)]
            if feature_names is not None
            else [f"#{j}" for j in np.flatnonzero(keep)]
        )
        per_feature[bucket] = dict(zip(names, map(float, gaps)))
    macro, weighted = _macro_weighted(per_bucket, n_generated)
    return {
        "variant": "robust" if robust else "paper",
        "macro": macro,
        "weighted": weighted,
        "per_bucket": per_bucket,
        "per_feature": per_feature,
        "n_generated": n_generated,
        "n_buckets": len(per_bucket),
        "skipped": skipped,
        "min_bucket_size": min_bucket_size,
    }


def bng_robust(
    human: Mapping[str, np.ndarray],
    generated: Mapping[str, np.ndarray],
    *,
    min_bucket_size: int = _MIN_BUCKET_SIZE,
    feature_names: Sequence[str] | None = None,
) -> dict:
    """BNG with both samples mapped through the bucket's human empirical CDF (bounded [0, 1])."""
    return bng(human, generated, min_bucket_size=min_bucket_size, robust=True, feature_names=feature_names)


def hcr(
    generated: Mapping[str, np.ndarray],
    references: Mapping[str, Mapping[str, Mapping[str, float]]],
    feature_names: Sequence[str],
    *,
    lower: str = "q10",
    upper: str = "q90",
) -> dict:
    """Human Coverage Rate (↑) and per-feature inside rates.

    references[bucket][feature] holds at least the band keys (`lower`, `upper`); the features of
    a bucket are those of `feature_names` present in its reference with finite bounds (out-of-
    scope features have no reference entry). A response is covered when every such feature lies
    in [lower, upper] (inclusive). Macro over buckets, weighted by generated rows.
    """
    per_bucket: dict[str, float] = {}
    inside_rate: dict[str, dict[str, float]] = {}
    n_generated: dict[str, int] = {}
    skipped: dict[str, str] = {}
    for bucket in sorted(generated):
        g = _matrix(generated[bucket], bucket, "generated")
        if g.shape[0] == 0:
            skipped[bucket] = "no generated rows"
            continue
        if g.shape[1] != len(feature_names):
            raise ValueError(
                f"bucket {bucket!r}: {g.shape[1]} feature columns but {len(feature_names)} feature names"
            )
        ref = references.get(bucket)
        if ref is None:
            skipped[bucket] = "no reference"
            continue
        cols, lo, hi = [], [], []
        for j, name in enumerate(feature_names):
            stats = ref.get(name)
            if stats is None:
                continue
            low, high = float(stats[lower]), float(stats[upper])
            if np.isfinite(low) and np.isfinite(high):
                cols.append(j)
                lo.append(low)
                hi.append(high)
        if not cols:
            skipped[bucket] = "no in-scope features"
            continue
        values = g[:, cols]
        if np.isnan(values).any():
            j = cols[int(np.flatnonzero(np.isnan(values).any(axis=0))[0])]
            raise ValueError(
                f"bucket {bucket!r}: feature {feature_names[j]!r} is in scope but has NaN generated rows"
            )
        inside = (values >= np.array(lo)) & (values <= np.array(hi))
        per_bucket[bucket] = float(inside.all(axis=1).mean())
        inside_rate[bucket] = {feature_names[j]: float(r) for j, r in zip(cols, inside.mean(axis=0))}
        n_generated[bucket] = int(g.shape[0])
    macro, weighted = _macro_weighted(per_bucket, n_generated)
    return {
        "band": [lower, upper],
        "macro": macro,
        "weighted": weighted,
        "per_bucket": per_bucket,
        "per_feature_inside_rate": inside_rate,
        "per_feature_inside_rate_macro": _feature_macro(inside_rate),
        "n_generated": n_generated,
        "n_buckets": len(per_bucket),
        "skipped": skipped,
    }


def _feature_macro(inside_rate: dict[str, dict[str, float]]) -> dict[str, float]:
    """Per feature: mean inside rate over the buckets where the feature is in scope."""
    collected: dict[str, list[float]] = {}
    for rates in inside_rate.values():
        for name, rate in rates.items():
            collected.setdefault(name, []).append(rate)
    return {name: float(np.mean(v)) for name, v in sorted(collected.items())}
