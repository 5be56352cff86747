"""Feature matrices on disk: one .npz per response set (ids, names, X, valid, buckets, languages).

Rows that cannot be featurised (an empty generation) are kept with `valid = False` and NaN
features, so every consumer sees them and reports them instead of scoring them silently.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..io import atomic_path


@dataclass
class FeatureTable:
    ids: np.ndarray
    names: list[str]
    X: np.ndarray
    valid: np.ndarray
    bucket_ids: np.ndarray
    languages: np.ndarray
    samples: np.ndarray  # sample index per row (0 for human answers and single samples)

    def subset(self, mask: np.ndarray) -> FeatureTable:
        return FeatureTable(
            self.ids[mask],
            self.names,
            self.X[mask],
            self.valid[mask],
            self.bucket_ids[mask],
            self.languages[mask],
            self.samples[mask],
        )

    def with_buckets(self, records: list[dict]) -> FeatureTable:
        """The table with each row's bucket id taken from its record (by id): the records of
        another bucket key rebucket it (an ablation variant's)."""
        by_id = {r["id"]: r["bucket_id"] for r in records}
        return replace(self, bucket_ids=np.array([by_id[str(i)] for i in self.ids], dtype=str))


def save_features(path, table: FeatureTable) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(
                f,
                ids=np.asarray(table.ids, dtype=str),
                names=np.asarray(table.names, dtype=str),
                X=np.asarray(table.X, dtype=np.float64),
                valid=np.asarray(table.valid, dtype=bool),
                bucket_ids=np.asarray(table.bucket_ids, dtype=str),
                languages=np.asarray(table.languages, dtype=str),
                samples=np.asarray(table.samples, dtype=np.int64),
            )


def load_features(path) -> FeatureTable:
    with np.load(path, allow_pickle=False) as z:
        return FeatureTable(
            z["ids"],
            [str(n) for n in z["names"]],
            z["X"],
            z["valid"],
            z["bucket_ids"],
            z["languages"],
            z["samples"],
        )
