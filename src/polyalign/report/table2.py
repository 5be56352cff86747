"""Table 2: the main benchmark per language, the mean over run seeds with its two-level
bootstrap interval, and the per-seed table beside it (each seed's own prompt-level interval)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..evaluation.store import number
from ..io import InputError
from ..systems import PAPER_SYSTEMS, table_order
from .published import system_label
from .tables import write_tables

TABLE2_COLUMNS = (
    ("qa_f1", "QA-F1"),
    ("bng_macro", "BNG-macro"),
    ("g_mauve", "G-MAUVE"),
    ("nuf", "NUF"),
    ("aggregate", "Aggregate"),
    ("language_fidelity", "Lang. fid."),
)
LOWER_IS_BETTER = {"bng_macro"}
MISSING = "–"


def format_ci(ci: dict | None, digits: int = 3) -> str:
    """'0.412 [0.371, 0.455]'; the point alone when there is no interval; '–' when undefined."""
    if ci is None or not math.isfinite(number(ci.get("point"))):
        return MISSING
    text = f"{number(ci['point']):.{digits}f}"
    low, high = number(ci.get("low")), number(ci.get("high"))
    if math.isfinite(low) and math.isfinite(high):
        text += f" [{low:.{digits}f}, {high:.{digits}f}]"
    return text


def ordered_systems(summary: dict, systems: Sequence[str] | None = None) -> list[str]:
    """The requested systems (all must be in the summary), else the summary's systems with the
    paper's six first in the paper's order and any others (oracle rows) after them."""
    present = summary["systems"]
    if systems is not None:
        missing = [s for s in systems if s not in present]
        if missing:
            raise InputError(f"system(s) {missing} requested but not in the summary ({present})")
        return list(systems)
    return table_order(present)


def _caption(summary: dict, language: str) -> str:
    boot = summary["bootstrap"]
    level = round(100 * (1 - boot["alpha"]))
    seeds = summary["seeds"]
    plural = "s" if len(seeds) != 1 else ""
    return (
        f"Language {language}, {summary['languages'][language]} test prompts, "
        f"{len(seeds)} run seed{plural} ({', '.join(seeds)}). Mean over seeds [{level}% two-level "
        f"bootstrap interval: seeds, then test prompts, {boot['n_resamples']} resamples for "
        "every column; a number without brackets has no interval]. BNG-macro: lower is "
        "better; all other columns: higher is better. Lang. fid.: share of answers in the "
        "prompt's language (script)."
    )


def table2_sections(
    summary: dict, systems: Sequence[str] | None = None, languages: Sequence[str] | None = None
) -> list[dict]:
    """One table per language: systems x (QA-F1, BNG-macro, G-MAUVE, NUF, Aggregate, language
    fidelity), seed means with pooled intervals."""
    systems = ordered_systems(summary, systems)
    languages = list(languages) if languages is not None else sorted(summary["languages"])
    sections = []
    for lang in languages:
        rows = []
        for system in systems:
            head = summary["headline"][system].get(lang)
            if head is None:
                raise InputError(f"system {system!r} has no metrics for language {lang!r}")
            rows.append([system_label(system)] + [format_ci(head.get(m)) for m, _ in TABLE2_COLUMNS])
        sections.append(
            {
                "title": f"Table 2: main benchmark ({lang})",
                "caption": _caption(summary, lang),
                "headers": ["System"] + [label for _, label in TABLE2_COLUMNS],
                "rows": rows,
                "best_columns": {
                    j: "min" if m in LOWER_IS_BETTER else "max"
                    for j, (m, _) in enumerate(TABLE2_COLUMNS, start=1)
                },
                "not_ranked": [i for i, s in enumerate(systems) if s not in PAPER_SYSTEMS],  # oracle rows
            }
        )
    return sections


def per_seed_sections(
    summary: dict, systems: Sequence[str] | None = None, languages: Sequence[str] | None = None
) -> list[dict]:
    """One table per language: one row per (system, seed), the Table 2 columns with each seed's
    own interval (test prompts resampled, the same draws as the pooled one)."""
    systems = ordered_systems(summary, systems)
    languages = list(languages) if languages is not None else sorted(summary["languages"])
    level = round(100 * (1 - summary["bootstrap"]["alpha"]))
    sections = []
    for lang in languages:
        rows = []
        for system in systems:
            head = summary["headline"][system][lang]
            for seed in summary["seeds"]:
                rows.append(
                    [system_label(system), seed]
                    + [format_ci(head[m]["seeds"].get(seed)) for m, _ in TABLE2_COLUMNS]
                )
        sections.append(
            {
                "title": f"Table 2 per seed ({lang})",
                "caption": (
                    f"Language {lang}: every run seed on its own. Point estimate [{level}% "
                    "bootstrap interval over test prompts of that seed]. Table 2 reports "
                    "the mean of these rows."
                ),
                "headers": ["System", "Seed"] + [label for _, label in TABLE2_COLUMNS],
                "rows": rows,
            }
        )
    return sections


def write_table2(summary: dict, md_path, tex_path, systems: Sequence[str] | None = None) -> None:
    write_tables(table2_sections(summary, systems), md_path, tex_path)


def write_table2_per_seed(summary: dict, md_path, tex_path, systems: Sequence[str] | None = None) -> None:
    write_tables(per_seed_sections(summary, systems), md_path, tex_path)
