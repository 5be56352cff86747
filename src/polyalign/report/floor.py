"""The floor of a metric: what a human-like reply that ignores the prompt scores (the better of
the two prompt-blind human baselines, polyalign.baselines.FLOOR_BASELINES), and whether a system
clears it. A comparison between two systems that do not both clear the floor on its metric is
not evidence about a claim (verdict "below floor", docs/evaluation.md)."""

from __future__ import annotations

import math

from ..baselines import FLOOR_BASELINES
from ..evaluation.store import number

# Metrics where lower is better (the floor is then the lower of the two baselines).
LOWER_IS_BETTER = {"bng_macro"}


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
