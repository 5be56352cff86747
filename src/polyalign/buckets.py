"""Length bins, bucket ids and bucket statistics (docs/method.md §1)."""

from __future__ import annotations

from collections import Counter, defaultdict

from .io import InputError
from .text import count_length_tokens, length_bin

BUCKET_FIELDS = ("language", "track", "family", "situation", "length_bin")


def validate_bucket_config(thresholds, bucket_key) -> None:
    if len(thresholds) != 3 or not all(isinstance(t, int) and t > 0 for t in thresholds):
        raise InputError(f"config key 'length_thresholds': expected 3 positive integers, got {thresholds}")
    if not (thresholds[0] < thresholds[1] < thresholds[2]):
        raise InputError(f"config key 'length_thresholds': must be strictly increasing, got {thresholds}")
    validate_bucket_key(bucket_key)


def validate_bucket_key(bucket_key) -> None:
    unknown = [k for k in bucket_key if k not in BUCKET_FIELDS]
    if unknown or not bucket_key or len(set(bucket_key)) != len(bucket_key):
        raise InputError(
            f"config key 'bucket_key': invalid fields {list(bucket_key)} (allowed: {BUCKET_FIELDS})"
        )


def bucket_id(rec: dict, bucket_key) -> str:
    return "|".join(rec[k] for k in bucket_key)


def assign_buckets(records: list[dict], thresholds, bucket_key) -> list[dict]:
    """Return new records with meta.length_tokens, length_bin and bucket_id set."""
    validate_bucket_config(thresholds, bucket_key)
    out = []
    for rec in records:
        n = count_length_tokens(rec["human_answer"])
        rec = {**rec, "meta": {**rec["meta"], "length_tokens": n}, "length_bin": length_bin(n, thresholds)}
        rec["bucket_id"] = bucket_id(rec, bucket_key)
        out.append(rec)
    return out


def rebucket(records: list[dict], bucket_key) -> list[dict]:
    """The bucketed `records` with their bucket ids under another `bucket_key`; nothing else
    changes (an ablation variant's buckets: polyalign.workflow.variants)."""
    validate_bucket_key(bucket_key)
    return [{**r, "bucket_id": bucket_id(r, bucket_key)} for r in records]


def bucket_statistics(by_split: dict[str, list[dict]], min_bucket_size: int) -> dict:
    """Counts per bucket and split, per language and length bin; buckets whose train count is
    under min_bucket_size are listed as `small` (they get no reference; they are never merged)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    tokens: dict[str, list[int]] = defaultdict(list)
    for split, recs in by_split.items():
        for r in recs:
            counts[r["bucket_id"]][split] += 1
            if split == "train":
                tokens[r["bucket_id"]].append(r["meta"]["length_tokens"])
    buckets = {}
    for b in sorted(counts):
        c = counts[b]
        t = sorted(tokens[b])
        buckets[b] = {
            "train": c["train"],
            "val": c["val"],
            "test": c["test"],
            "total": c["train"] + c["val"] + c["test"],
            "train_length_tokens_median": t[len(t) // 2] if t else None,
            "small": c["train"] < min_bucket_size,
        }
    per_language = defaultdict(Counter)
    per_length_bin = defaultdict(Counter)
    for split, recs in by_split.items():
        for r in recs:
            per_language[r["language"]][split] += 1
            per_length_bin[f"{r['language']}|{r['length_bin']}"][split] += 1
    return {
        "min_bucket_size": min_bucket_size,
        "n_buckets": len(buckets),
        "small_buckets": [b for b, v in buckets.items() if v["small"]],
        "buckets": buckets,
        "per_language": {k: dict(v) for k, v in sorted(per_language.items())},
        "per_language_length_bin": {k: dict(v) for k, v in sorted(per_length_bin.items())},
    }
