"""Seeded stratified subsample of the bucketed corpus (config `subsample`; config/pilot.yaml).

Within each split, a stratum is a (corpus, bucket) pair: every bucket of every corpus keeps
records, small strata whole, so per-bucket references and metrics stay defined while large strata
shrink by `fraction`. Which records a stratum keeps is decided by a SHA-1 of the data seed and the
record id, so the choice does not depend on file order and a record kept at a smaller fraction is
kept at every larger one.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict


def stratum_size(n: int, fraction: float, min_per_stratum: int) -> int:
    """Records a stratum of n keeps."""
    return min(n, max(min_per_stratum, math.ceil(fraction * n)))


def _rank(seed: int, record_id: str) -> str:
    return hashlib.sha1(f"{seed}:{record_id}".encode()).hexdigest()


def subsample(records: list[dict], fraction: float, min_per_stratum: int, seed: int) -> list[dict]:
    """The kept records of one split, in their input order (the input itself when fraction is 1)."""
    if fraction >= 1:
        return records
    strata: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in records:
        strata[(r["dataset"], r["bucket_id"])].append(r)
    kept: set[str] = set()
    for rows in strata.values():
        k = stratum_size(len(rows), fraction, min_per_stratum)
        kept.update(r["id"] for r in sorted(rows, key=lambda r: _rank(seed, r["id"]))[:k])
    return [r for r in records if r["id"] in kept]
