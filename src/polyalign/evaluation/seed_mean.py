"""Seed-mean of per-seed metrics: the interim pooling of the run seeds.

Every run seed evaluates the same test prompts with the same bootstrap draws (equal test
fingerprint and bootstrap settings), so replicate r of every seed was computed on the same
resampled prompt set, and the mean over seeds of replicate r is a replicate of the seed-mean.
The headline intervals below are quantiles of those replicates: they resample prompts for the
seeds at hand and do not include the variation between seeds (a two-level bootstrap over seeds
and prompts does). Other intervals (per bucket, per corpus) are left out (null): a seed-mean of
per-seed interval ends is no interval.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from polyalign.io import InputError

from .store import number

_BOOTSTRAP_KEYS = ("fingerprint", "seed", "alpha", "n_resamples", "n_resamples_expensive")
_INTERVAL_KEYS = ("low", "high", "bootstrap_median")


def _is_number(x) -> bool:
    return x is None or (isinstance(x, (int, float)) and not isinstance(x, bool))


def _mean(values: list, where: str):
    first = values[0]
    if isinstance(first, dict):
        if any(not isinstance(v, dict) or v.keys() != first.keys() for v in values):
            raise InputError(f"{where}: the seeds' metrics files differ in their keys")
        out = {k: _mean([v[k] for v in values], f"{where}.{k}") for k in first}
        if "point" in first:
            out.update({k: None for k in _INTERVAL_KEYS if k in out})
        return out
    if isinstance(first, list):
        if any(not isinstance(v, list) or len(v) != len(first) for v in values):
            raise InputError(f"{where}: the seeds' metrics files differ in a list's length")
        return [_mean([v[i] for v in values], f"{where}[{i}]") for i in range(len(first))]
    if all(v == first for v in values):
        return first
    if all(_is_number(v) for v in values):
        mean = float(np.mean([number(v) for v in values]))
        return mean if math.isfinite(mean) else None  # undefined in any seed: undefined
    raise InputError(f"{where}: the seeds disagree ({values!r})")


def mean_over_seeds(per_seed: Sequence[dict]) -> dict:
    """One system's metrics documents of every seed -> one document of seed-mean points."""
    if not per_seed:
        raise InputError("mean_over_seeds: no seeds")
    systems = {m["system"] for m in per_seed}
    if len(systems) != 1:
        raise InputError(f"mean_over_seeds: metrics of several systems {sorted(systems)}")
    for m in per_seed[1:]:
        for key in _BOOTSTRAP_KEYS:
            if m["bootstrap"].get(key) != per_seed[0]["bootstrap"].get(key):
                raise InputError(f"{m['system']}: seeds differ in bootstrap {key}; their replicates "
                                 "cannot be averaged")
    return _mean(list(per_seed), per_seed[0]["system"])


def mean_bootstrap(per_seed: Sequence[dict]) -> dict:
    """One system's bootstrap documents of every seed -> the replicates of the seed-mean
    (replicate r averaged over seeds; a replicate undefined in any seed is undefined)."""
    if not per_seed:
        raise InputError("mean_bootstrap: no seeds")
    first = per_seed[0]
    for b in per_seed[1:]:
        for key in ("system", *_BOOTSTRAP_KEYS):
            if b.get(key) != first.get(key):
                raise InputError(f"{first.get('system')}: seeds differ in bootstrap {key}")
    out = {k: v for k, v in first.items() if k != "replicates"}
    out["replicates"] = {}
    for scope, metrics in first["replicates"].items():
        out["replicates"][scope] = {}
        for metric in metrics:
            rows = [b["replicates"].get(scope, {}).get(metric) for b in per_seed]
            if any(r is None or len(r) != len(metrics[metric]) for r in rows):
                raise InputError(f"{first['system']} {scope}/{metric}: seeds have different replicates")
            x = np.array([[number(v) for v in r] for r in rows], dtype=float)
            out["replicates"][scope][metric] = [None if not math.isfinite(v) else float(v) for v in x.mean(axis=0)]
    return out


def headline_intervals(metrics: dict, boot: dict) -> dict:
    """`metrics` (seed-mean) with each headline interval taken from the seed-mean replicates."""
    alpha = boot["alpha"]
    out = {**metrics, "headline": {}}
    for scope, by_metric in metrics["headline"].items():
        out["headline"][scope] = {}
        for metric, ci in by_metric.items():
            reps = np.array([number(v) for v in boot["replicates"].get(scope, {}).get(metric, [])], dtype=float)
            finite = reps[np.isfinite(reps)]
            ci = {**ci, "n_finite": int(finite.size), "n_resamples": int(reps.size)}
            if finite.size:
                ci.update(low=float(np.quantile(finite, alpha / 2)), high=float(np.quantile(finite, 1 - alpha / 2)),
                          bootstrap_median=float(np.median(finite)))
            out["headline"][scope][metric] = ci
    return out
