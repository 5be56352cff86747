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


def pretrain_inventory(manifest: dict, source_packages: dict[str, str]) -> dict:
    """One row per source of the BaseLM's pre-training text (rule build_pretrain_text);
    `source_packages`: {source: the package it is read from}."""
    rows = []
    for source, s in manifest["sources"].items():
        package = source_packages[source]
        removed = s["segments_removed_as_evaluation_text"]
        rows.append(
            [
                source,
                s["language"],
                f"{package} {manifest['packages'][package]}",
                f"{s['documents']} of {s['of_documents']}",
                s["characters"],
                removed.get("exact", 0) + removed.get("normalised", 0),
                s["segments_dropped_for_rare_characters"],
            ]
        )
    return {
        "title": "Table 1c: pre-training text of the BaseLM",
        "caption": (
            "Real text the scratch BaseLM is pre-trained on besides the train split: documents taken "
            "in a seeded order up to a character budget per language; segments (turns, sentences) "
            "equal to a val/test prompt or answer removed, and those holding a character outside the "
            "kept vocabulary dropped. English conversations of the alignment corpus are excluded by id."
        ),
        "headers": [
            "source",
            "language",
            "package",
            "documents",
            "characters",
            "val/test removed",
            "rare dropped",
        ],
        "rows": rows,
    }
