"""Writing and reading metrics files.

`results/metrics/seed{seed}/{system}.json` holds every number with its details (NaN written as
null); `results/metrics/seed{seed}/{system}.bootstrap.json` holds the raw bootstrap replicates (compact), which
only the paired comparisons of the replication report read.
"""
from __future__ import annotations

import json
import math

import numpy as np

from polyalign.io import InputError, read_json, write_json, write_text

METRICS_FORMAT = "polyalign.metrics.v1"
BOOTSTRAP_FORMAT = "polyalign.bootstrap.v1"


def to_jsonable(obj):
    """Plain JSON types; numpy scalars/arrays converted, non-finite floats -> None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(float(obj)) else None
    return obj


def number(value) -> float:
    """A stored number back as float (null -> NaN)."""
    return float("nan") if value is None else float(value)


def split_replicates(result: dict) -> tuple[dict, dict]:
    """(metrics without the replicate lists, the bootstrap document)."""
    metrics = dict(result)
    boot = dict(metrics["bootstrap"])
    replicates = boot.pop("replicates")
    metrics["bootstrap"] = boot
    document = {"format": BOOTSTRAP_FORMAT, "system": result["system"], **boot,
                "replicates": replicates}
    return metrics, document


def write_metrics(metrics_path, bootstrap_path, result: dict) -> None:
    """Write the metrics JSON and the replicates JSON of one system, each atomically."""
    metrics, document = split_replicates(result)
    write_text(bootstrap_path, json.dumps(to_jsonable(document), ensure_ascii=False,
                                          sort_keys=True, separators=(",", ":"),
                                          allow_nan=False) + "\n")
    write_json(metrics_path, to_jsonable(metrics))


def load_metrics(path) -> dict:
    doc = read_json(path)
    if not isinstance(doc, dict) or doc.get("format") != METRICS_FORMAT:
        raise InputError(f"{path}: not a metrics file (expected format {METRICS_FORMAT!r})")
    return doc


def load_bootstrap(path) -> dict:
    doc = read_json(path)
    if not isinstance(doc, dict) or doc.get("format") != BOOTSTRAP_FORMAT:
        raise InputError(f"{path}: not a bootstrap replicates file (expected format "
                         f"{BOOTSTRAP_FORMAT!r})")
    return doc
