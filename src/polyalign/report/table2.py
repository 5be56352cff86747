"""Table 2: the main benchmark per language, the mean over run seeds with its two-level
bootstrap interval, and the per-seed table beside it (each seed's own prompt-level interval)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..baselines import BASELINES
from ..evaluation.store import number
from ..io import InputError
from ..systems import PAPER_SYSTEMS, table_order
from .floor import LOWER_IS_BETTER, floor_value
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


def no_answer_note(summary: dict, system: str, scope: str) -> str | None:
    """'no answer (k of n)': answers missing (empty, or no final answer found) of all answers
    given over the run seeds; None when every answer is there. `summary["no_answer"]` is written
    by combine_metrics; a summary without it shows no note."""
    count = summary.get("no_answer", {}).get(system, {}).get(scope)
    if not count or not count["k"]:
        return None
    return f"no answer ({count['k']} of {count['n']})"


def all_missing(summary: dict, system: str, scope: str) -> bool:
    count = summary.get("no_answer", {}).get(system, {}).get(scope)
    return bool(count) and count["n"] > 0 and count["k"] == count["n"]


def row_label(summary: dict, system: str, scope: str) -> str:
    """The system's name, with its no-answer count when some answers are missing."""
    note = no_answer_note(summary, system, scope)
    return system_label(system) + (f" [{note}]" if note and not all_missing(summary, system, scope) else "")


def metric_cells(summary: dict, system: str, scope: str, cells: list[str]) -> list[str]:
    """`cells` as they are, or 'no answer (n of n)' in each when the system answered nothing."""
    if all_missing(summary, system, scope):
        return [no_answer_note(summary, system, scope)] * len(cells)
    return cells


def floor_row(summary: dict, scope: str, columns=TABLE2_COLUMNS) -> list[str] | None:
    """The floor (the better of the two prompt-blind human baselines) per column; None without
    the baselines."""
    cells = []
    for m, _ in columns:
        f = floor_value(summary, scope, m)
        cells.append(MISSING if f is None else f"{f[0]:.3f}")
    return None if all(c == MISSING for c in cells) else ["Floor (better human baseline)"] + cells


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
        f"{len(seeds)} run seed{plural} ({', '.join(seeds)}). Mean over seeds [{level}% two-level t "
        f"interval: the seed spread plus a bootstrap over test prompts, {boot['n_resamples']} "
        "prompt resamples for every column; a number without brackets has no interval]. BNG-macro: lower is "
        "better, and its interval reaches below the plug-in mean by a bound on the plug-in's upward "
        "bias; all other columns: higher is better. Lang. fid.: share of answers in the "
        "prompt's language (script). Baseline rows (no model): a random human train answer of "
        "the prompt's bucket, the human answer to another test prompt of the bucket, a constant "
        "reply per language chosen on the train split; Floor = the better of the two human "
        "baselines per column (a claim comparison of systems not both above it is 'below floor'). "
        "'no answer (k of n)': answers missing (empty, or no final answer found) of all answers "
        "over the run seeds."
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
            rows.append(
                [row_label(summary, system, lang)]
                + metric_cells(summary, system, lang, [format_ci(head.get(m)) for m, _ in TABLE2_COLUMNS])
            )
        floor = floor_row(summary, lang) if any(s in BASELINES for s in systems) else None
        if floor is not None:
            rows.append(floor)
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
                # oracle rows, baselines and the floor
                "not_ranked": [i for i, s in enumerate(systems) if s not in PAPER_SYSTEMS]
                + ([len(systems)] if floor is not None else []),
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
                    [row_label(summary, system, lang), seed]
                    + metric_cells(
                        summary,
                        system,
                        lang,
                        [format_ci(head[m]["seeds"].get(seed)) for m, _ in TABLE2_COLUMNS],
                    )
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
