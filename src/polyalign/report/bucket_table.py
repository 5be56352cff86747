"""Per-bucket table: buckets x systems of BNG and QA-F1, one pair of tables per language."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..evaluation.store import number
from ..systems import PAPER_SYSTEMS
from .inventory import bucket_label
from .published import system_label
from .table2 import MISSING, no_answer_note, ordered_systems
from .tables import write_tables

BUCKET_METRICS = (("bng", "BNG (lower is better)"), ("qa_f1", "QA-F1 (higher is better)"))
BEST = {"bng": "min", "qa_f1": "max"}


def _cell(value) -> str:
    x = number(value)
    return f"{x:.3f}" if math.isfinite(x) else MISSING


def _bucket_cell(entry: dict, metric: str) -> str:
    """The value, or 'no answer (k of n)' when the system answered none of the bucket's prompts
    (k, n: mean over run seeds)."""
    k = number(entry.get("no_answer"))
    if math.isfinite(k) and k > 0 and k >= entry["n"]:
        return f"no answer ({k:g} of {entry['n']})"
    return _cell(entry.get(metric))


def bucket_sections(
    summary: dict, systems: Sequence[str] | None = None, metrics: Sequence[tuple[str, str]] = BUCKET_METRICS
) -> list[dict]:
    """Per language and metric: one row per test bucket (n = test prompts; 'eval' = whether the
    bucket has enough test rows for the distributional metrics), one column per system."""
    systems = ordered_systems(summary, systems)
    first = summary["per_bucket"][systems[0]]
    min_size = summary["settings"]["min_bucket_size"]
    sections = []
    for lang in sorted(summary["languages"]):
        buckets = sorted(b for b, v in first.items() if v["language"] == lang)
        for metric, label in metrics:
            rows = []
            for b in buckets:
                row = [bucket_label(b), first[b]["n"], "yes" if first[b]["eligible"] else "no"]
                rows.append(row + [_bucket_cell(summary["per_bucket"][s][b], metric) for s in systems])
            notes = [f"{system_label(s)}: {no_answer_note(summary, s, lang)}" for s in systems]
            notes = [n for n, s in zip(notes, systems) if no_answer_note(summary, s, lang)]
            sections.append(
                {
                    "title": f"Per-bucket {label.split(' (')[0]} ({lang})",
                    "caption": (
                        f"{label} per test bucket, language {lang}. Distributional metrics "
                        f"need at least {min_size} test prompts in a bucket ('eval' = yes); "
                        "smaller buckets show '–' for BNG."
                        + (" Answers missing over the run seeds: " + "; ".join(notes) + "." if notes else "")
                    ),
                    "headers": ["bucket", "n", "eval"] + [system_label(s) for s in systems],
                    "rows": rows,
                    "best_in_rows": (
                        BEST[metric],
                        [3 + k for k, s in enumerate(systems) if s in PAPER_SYSTEMS],
                    ),
                }
            )
    return sections


def write_bucket_table(summary: dict, md_path, tex_path, systems: Sequence[str] | None = None) -> None:
    write_tables(bucket_sections(summary, systems), md_path, tex_path)
