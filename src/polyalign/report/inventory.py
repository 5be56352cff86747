"""Table 1: corpus inventory after normalization and dedup, plus a bucket inventory per language."""

from __future__ import annotations

from collections import defaultdict

SPLITS = ("train", "val", "test")


def bucket_label(bucket_id: str) -> str:
    """Bucket ids join fields with '|', which would split Markdown table cells."""
    return bucket_id.replace("|", " / ")


def corpus_inventory(by_split: dict[str, list[dict]]) -> dict:
    """One row per corpus: language(s), situation(s), track(s), split counts, total; a total row."""
    info = defaultdict(lambda: {"situation": set(), "track": set(), "train": 0, "val": 0, "test": 0})
    for split in SPLITS:
        for r in by_split[split]:
            row = info[(r["dataset"], r["language"])]
            row["situation"].add(r["situation"])
            row["track"].add(r["track"])
            row[split] += 1
    rows = []
    totals = {s: 0 for s in SPLITS}
    for name, lang in sorted(info):
        row = info[(name, lang)]
        rows.append(
            [
                name,
                lang,
                ", ".join(sorted(row["situation"])),
                ", ".join(sorted(row["track"])),
                row["train"],
                row["val"],
                row["test"],
                row["train"] + row["val"] + row["test"],
            ]
        )
        for s in SPLITS:
            totals[s] += row[s]
    rows.append(["total", "", "", "", totals["train"], totals["val"], totals["test"], sum(totals.values())])
    return {
        "title": "Table 1: corpus inventory",
        "caption": "Records per corpus and split after normalization and exact dedup (test > val > train).",
        "headers": ["corpus", "language", "situation", "track", "train", "val", "test", "total"],
        "rows": rows,
    }


def bucket_inventory(stats: dict) -> list[dict]:
    """One table per language: bucket id, split counts, whether it is under min_bucket_size."""
    per_lang = defaultdict(list)
    for b, v in stats["buckets"].items():
        lang = b.split("|", 1)[0]
        per_lang[lang].append(
            [bucket_label(b), v["train"], v["val"], v["test"], v["total"], "yes" if v["small"] else "no"]
        )
    sections = []
    for lang in sorted(per_lang):
        sections.append(
            {
                "title": f"Table 1b: bucket inventory ({lang})",
                "caption": (
                    f"Buckets of language {lang}; 'small' marks buckets with fewer than "
                    f"{stats['min_bucket_size']} train records (no reference, skipped by per-bucket metrics)."
                ),
                "headers": ["bucket", "train", "val", "test", "total", "small"],
                "rows": per_lang[lang],
            }
        )
    return sections
