"""Naturalness–Utility Frontier (NUF) hypervolume and the Aggregate score (docs/method.md §9).

These are the paper's exact formulas (they reproduce the authors' result files); the only choices
made here are the deterministic tie-breaking of the frontier and what counts as "missing".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def _finite(value) -> bool:
    return value is not None and math.isfinite(float(value))


def _clip01(value: float) -> float:
    return min(max(float(value), 0.0), 1.0)


def geometric_mean_or_zero(values: Sequence[float]) -> float:
    """Geometric mean of values in [0, 1]; exactly 0 when any value is 0."""
    if any(v <= 0.0 for v in values):
        return 0.0
    return math.exp(sum(math.log(v) for v in values) / len(values))


def bucket_naturalness(bng_b: float, cmauve_b: float, tdm_b: float | None = None) -> float:
    """n = geometric mean of 1/(1 + max(BNG_b, 0)), clip(C-MAUVE_b) [and clip(TDM_b)]."""
    parts = [1.0 / (1.0 + max(float(bng_b), 0.0)), _clip01(cmauve_b)]
    if tdm_b is not None:
        parts.append(_clip01(tdm_b))
    return geometric_mean_or_zero(parts)


def pareto_frontier(points: Mapping[str, tuple[float, float]]) -> list[str]:
    """Non-dominated buckets of {bucket: (u, n)}, in order of decreasing u.

    Sorted by u descending, ties broken by n descending, then bucket id ascending; a point is kept
    when its n is strictly greater than every n kept so far (the first point is always kept).
    So of several points with equal u only the one with the largest n survives, and of exact
    duplicates only the first by bucket id.
    """
    order = sorted(points, key=lambda b: (-points[b][0], -points[b][1], b))
    kept: list[str] = []
    best_n = -math.inf
    for bucket in order:
        n = points[bucket][1]
        if n > best_n:
            kept.append(bucket)
            best_n = n
    return kept


def hypervolume(points: Sequence[tuple[float, float]]) -> float:
    """Area dominated by a set of (u, n) points w.r.t. (0, 0).

    The non-dominated points are taken first (`pareto_frontier`); then, with the frontier sorted
    by u ascending and u_0 = 0: HV = sum_k (u_k - u_{k-1}) * n_k over points with u > 0, n > 0.
    """
    indexed = {f"{i:09d}": (float(u), float(n)) for i, (u, n) in enumerate(points)}
    front = [indexed[k] for k in pareto_frontier(indexed)]
    frontier = sorted((u, n) for u, n in front if u > 0 and n > 0)
    area, u_prev = 0.0, 0.0
    for u, n in frontier:
        area += (u - u_prev) * n
        u_prev = u
    return area


def naturalness_utility_frontier(
    qa_f1: Mapping[str, float],
    bng: Mapping[str, float],
    cmauve: Mapping[str, float],
    tdm: Mapping[str, float] | None = None,
) -> dict:
    """NUF (↑) from per-bucket QA-F1, BNG and C-MAUVE (and TDM for the multi-turn variant).

    Buckets missing a component (absent or non-finite) are left out and listed in `left_out`.
    With `tdm`, only buckets that have a TDM value take part.
    """
    components = [qa_f1, bng, cmauve] + ([tdm] if tdm is not None else [])
    buckets = sorted(set().union(*components))
    points: dict[str, tuple[float, float]] = {}
    left_out: list[str] = []
    for b in buckets:
        values = [c.get(b) for c in components]
        if not all(_finite(v) for v in values):
            left_out.append(b)
            continue
        u = _clip01(values[0])
        n = bucket_naturalness(values[1], values[2], values[3] if tdm is not None else None)
        points[b] = (u, n)
    frontier = pareto_frontier(points)
    hv = hypervolume([points[b] for b in frontier])
    return {
        "variant": "multi_turn" if tdm is not None else "paper",
        "hypervolume": hv,
        "frontier": frontier,
        "points": {b: list(p) for b, p in points.items()},
        "n_buckets": len(points),
        "left_out": left_out,
    }


def aggregate_score(qa_f1: float, bng_macro: float, global_mauve: float, nuf_hv: float) -> dict:
    """Aggregate (↑) = geometric mean of clip(QA-F1), 1/(1+max(BNG-macro,0)), clip(MAUVE), clip(NUF).

    A component whose input is missing or non-finite is left out; NaN with fewer than 2
    components; 0 if any component is 0.
    """
    raw = {"qa_f1": qa_f1, "bng_macro": bng_macro, "global_mauve": global_mauve, "nuf_hv": nuf_hv}
    components: dict[str, float] = {}
    for name, value in raw.items():
        if not _finite(value):
            continue
        if name == "bng_macro":
            components["bng_naturalness"] = 1.0 / (1.0 + max(float(value), 0.0))
        else:
            components[name] = _clip01(value)
    if len(components) < 2:
        score = float("nan")
    else:
        score = geometric_mean_or_zero(list(components.values()))
    return {
        "aggregate": score,
        "components": components,
        "left_out": [k for k, v in raw.items() if not _finite(v)],
    }
