"""Critic training rows: human train answers and model samples of the same prompts, each with
its support distance D_b as target (docs/method.md §5)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..features.store import FeatureTable
from ..references import support_distance


def critic_rows(
    records: list[dict], human: FeatureTable, samples: list[tuple[str, list[dict], FeatureTable]], refs: dict
) -> tuple[list[dict], dict]:
    """rows for `train_critic` and a report of what was left out and why.

    samples: [(system, generation rows, their FeatureTable)], rows in the table's order.
    Rows whose bucket has no reference (under min_bucket_size) and invalid (empty) generations
    are left out and counted; they never get a target of 0.
    """
    by_id = {r["id"]: r for r in records}
    rows, dropped = [], Counter()

    def add(table: FeatureTable, texts: list[str], source: str):
        D = np.full(len(table.ids), np.nan)
        ok = table.valid.copy()
        D[ok] = support_distance(table.X[ok], list(table.bucket_ids[ok]), refs, table.names, on_missing="nan")
        for i, rid in enumerate(table.ids):
            if not table.valid[i]:
                dropped[f"{source}:invalid_response"] += 1
            elif not np.isfinite(D[i]):
                dropped[f"{source}:bucket_without_reference"] += 1
            else:
                rows.append(
                    {
                        "id": str(rid),
                        "bucket_id": str(table.bucket_ids[i]),
                        "text": texts[i],
                        "source": source,
                        "target": float(D[i]),
                    }
                )

    add(human, [by_id[str(i)]["human_answer"] for i in human.ids], "human")
    for system, gens, table in samples:
        if [g["id"] for g in gens] != [str(i) for i in table.ids]:
            raise ValueError(f"{system}: generation rows and feature rows are not aligned")
        add(table, [g["answer"] for g in gens], "model")
    targets = {s: [r["target"] for r in rows if r["source"] == s] for s in ("human", "model")}
    report = {
        "rows": dict(Counter(r["source"] for r in rows)),
        "dropped": dict(dropped),
        "target_mean": {s: float(np.mean(v)) if v else None for s, v in targets.items()},
        "target_median": {s: float(np.median(v)) if v else None for s, v in targets.items()},
        "target_distribution": {s: target_distribution(v) for s, v in targets.items()},
    }
    return rows, report


def target_distribution(values) -> dict | None:
    """Median, mean, p90, p99, max and the share of zeros (inside every band) of D_b targets."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return None
    return {
        "n": int(v.size),
        "median": float(np.median(v)),
        "mean": float(v.mean()),
        "p90": float(np.quantile(v, 0.9)),
        "p99": float(np.quantile(v, 0.99)),
        "max": float(v.max()),
        "share_zero": float(np.mean(v == 0)),
    }
