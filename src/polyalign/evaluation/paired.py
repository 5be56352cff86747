"""Paired bootstrap differences between two systems.

Both systems' replicates come from the same seeded draws over the same prompts (equal test
fingerprints and bootstrap settings), so replicate r of system A and of system B were computed on
the same resampled prompt set and A_r - B_r is a replicate of the difference.
"""
from __future__ import annotations

import numpy as np

from polyalign.io import InputError

from .resampling import ci_summary

_MATCH = ("fingerprint", "seed", "alpha", "n_resamples", "n_resamples_expensive")


def check_pairable(boot_a: dict, boot_b: dict) -> None:
    for key in _MATCH:
        if boot_a.get(key) != boot_b.get(key):
            raise InputError(f"cannot pair {boot_a.get('system')!r} with {boot_b.get('system')!r}: "
                             f"bootstrap {key} differs ({boot_a.get(key)!r} vs {boot_b.get(key)!r})")


def _replicates(boot: dict, scope: str, metric: str) -> np.ndarray:
    values = boot["replicates"].get(scope, {}).get(metric, [])
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def paired_difference(boot_a: dict, boot_b: dict, scope: str, metric: str, point_a: float,
                      point_b: float, alpha: float | None = None) -> dict:
    """CI of metric(A) - metric(B) in `scope` from paired replicates.

    Returns ci_summary fields (point = point_a - point_b); n_resamples is 0 when the metric has
    no replicates (e.g. the MAUVE tier with n_resamples_expensive = 0).
    """
    check_pairable(boot_a, boot_b)
    a, b = _replicates(boot_a, scope, metric), _replicates(boot_b, scope, metric)
    if a.size != b.size:
        raise InputError(f"{scope}/{metric}: {a.size} replicates for {boot_a.get('system')!r} "
                         f"but {b.size} for {boot_b.get('system')!r}")
    return ci_summary(point_a - point_b, a - b, boot_a["alpha"] if alpha is None else alpha)
