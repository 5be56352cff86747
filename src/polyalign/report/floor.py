"""The floor of a metric: what a human-like reply that ignores the prompt scores (the better of
the two prompt-blind human baselines, polyalign.baselines.FLOOR_BASELINES), and whether a system
clears it. A comparison between two systems that do not both clear the floor on its metric is
not evidence about a claim (verdict "below floor", docs/evaluation.md)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ..baselines import FLOOR_BASELINES
from ..evaluation.store import number

# Metrics where lower is better (the floor is then the lower of the two baselines).
# metrics where lower is better (every other headline metric: higher); one set for Table 2, the
# floor and the claims
LOWER_IS_BETTER = {"bng_macro", "ai_rate"}


def pooled_points(per_seed: Mapping[str, Sequence[Mapping]]) -> dict:
    """{"headline": {system: {scope: {metric: {"point": …}}}}}, the shape of Table 2's summary
    that `floor_value` reads, from each system's per-seed metrics: the pooled point is the mean
    over seeds (as in `evaluation.pooled`), so a rule that needs only the floor need not wait for
    the pooled bootstrap."""
    head = {}
    for system, seeds in per_seed.items():
        scopes = seeds[0]["headline"]
        head[system] = {
            scope: {
                metric: {"point": float(np.mean([number(m["headline"][scope][metric]) for m in seeds]))}
                for metric in scopes[scope]
            }
            for scope in scopes
        }
    return {"headline": head}


def floor_value(summary: dict, scope: str, metric: str) -> tuple[float, str] | None:
    """(value, baseline) of the better floor baseline's pooled point on `metric`; None when the
    summary lacks the floor baselines or the metric is not one of its headline metrics (detector
    rates) or neither baseline has a finite value."""
    head = summary["headline"]
    if any(b not in head for b in FLOOR_BASELINES):
        return None
    values = []
    for b in FLOOR_BASELINES:
        ci = head[b].get(scope, {}).get(metric)
        if ci is not None and math.isfinite(number(ci.get("point"))):
            values.append((number(ci["point"]), b))
    if not values:
        return None
    pick = min if metric in LOWER_IS_BETTER else max
    return pick(values, key=lambda v: v[0])


def clears_floor(value: float, floor: float, metric: str) -> bool:
    """Strictly better than the floor (a system no better than a prompt-blind reply does not clear
    it); a non-finite value does not clear it."""
    if not math.isfinite(value):
        return False
    return value < floor if metric in LOWER_IS_BETTER else value > floor
