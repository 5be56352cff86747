"""Hash split assignment and cross-corpus exact dedup (docs/method.md §2)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from ..text import comparison_form

SPLIT_ORDER = ("train", "val", "test")
DEDUP_PRIORITY = ("test", "val", "train")  # a duplicate survives in the evaluation split


def hash_unit(key: str, seed: int) -> float:
    return int(hashlib.md5(f"{seed}:{key}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def hash_split(key: str, seed: int, weights: dict[str, float]) -> str:
    """Walk the cumulative weights in train/val/test order; the first label with u <= cum wins."""
    labels = [s for s in SPLIT_ORDER if weights.get(s, 0) > 0]
    if not labels or abs(sum(weights[s] for s in labels) - 1.0) > 1e-9:
        raise ValueError(f"split weights must be positive and sum to 1, got {weights}")
    u = hash_unit(key, seed)
    cum = 0.0
    for label in labels:
        cum += weights[label]
        if u <= cum:
            return label
    return labels[-1]  # u == 1.0 against a cumulative sum rounded just below 1


def dedup_key(rec: dict) -> str:
    """SHA-1 of the sorted-keys JSON of the content fields in their comparison form (lower-cased,
    invisible characters removed: a zero-width or BOM variant of a record is its duplicate)."""
    payload = {
        "language": rec["language"],
        "track": rec["track"],
        "family": rec["family"],
        "question": comparison_form(rec["question"]),
        "context": comparison_form(rec["context"]),
        "answer": comparison_form(rec["human_answer"]),
        "history": [{"role": t["role"], "text": comparison_form(t["text"])} for t in rec["history"]],
    }
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()


def dedup(records: list[dict]) -> tuple[list[dict], dict]:
    """Keep the first occurrence of every dedup key, visiting test, then val, then train.

    Returns (kept records in their original order, report). Removed duplicates are counted by
    kind: same split vs. an evaluation split shadowing train/val, same corpus vs. cross-corpus.
    """
    first: dict[str, dict] = {}
    removed = Counter()
    removed_by_dataset = Counter()
    keep_ids = set()
    for split in DEDUP_PRIORITY:
        for rec in records:
            if rec["split"] != split:
                continue
            key = dedup_key(rec)
            if key not in first:
                first[key] = rec
                keep_ids.add(id(rec))
                continue
            winner = first[key]
            where = "same_split" if winner["split"] == split else f"in_{winner['split']}"
            corpus = "same_corpus" if winner["dataset"] == rec["dataset"] else "cross_corpus"
            removed[f"{where}:{corpus}"] += 1
            removed_by_dataset[f"{rec['dataset']}/{split}"] += 1
    kept = [r for r in records if id(r) in keep_ids]
    total = len(records)
    report = {
        "input_records": total,
        "kept_records": len(kept),
        "removed": total - len(kept),
        "duplicate_rate": (total - len(kept)) / total if total else 0.0,
        "removed_by_kind": dict(sorted(removed.items())),
        "removed_by_dataset_split": dict(sorted(removed_by_dataset.items())),
    }
    return kept, report
