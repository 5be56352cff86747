"""The ablation table: each variant (polyalign.workflow.variants) against its parent, per language, as the
paired difference parent - variant with the pooled two-level interval of Table 2.

The variants' replicates are drawn with the bootstrap settings of Table 2 and checked against
its saved seed draws (`merge_replicates`), so a difference subtracts replicate r of both systems
under the same seed and prompt draw: two identical systems differ by exactly 0.

Reading a row: the difference is oriented so that a positive value means the parent is better
(for BNG, lower is better, so parent - variant < 0 is better); the verdict says what the component
the variant removes or changes does, by the superiority rule of the claims (`replication.decide`):
**helps** when the interval of the parent's improvement lies above 0, **hurts** when it lies
below 0, **no detectable effect** otherwise; and, as for the claims, **below floor** when the
parent or the variant does not beat the floor of the metric (the better prompt-blind human
baseline, `report.floor`): a difference between two systems that a reply ignoring the prompt
matches is no evidence about the component.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..evaluation.pooled import paired_difference
from ..evaluation.store import number
from ..io import InputError
from .floor import LOWER_IS_BETTER, clears_floor, floor_value
from .replication import CONTRADICTED, SUPPORTED, decide
from .table2 import MISSING, TABLE2_COLUMNS, format_ci
from .tables import write_tables

VERDICTS = {SUPPORTED: "helps", CONTRADICTED: "hurts"}
NO_EFFECT = "no detectable effect"
BELOW_FLOOR = "below floor"
MARKS = {"helps": "+", "hurts": "−", BELOW_FLOOR: "‡"}
# Table 2's columns, and the detector column (report.ablation_detectors)
METRIC_LABELS = {**dict(TABLE2_COLUMNS), "ai_rate": "AI rate (mean of detectors)"}


def improvement(diff: dict, metric: str) -> tuple[float, float, float]:
    """(point, low, high) of the parent's improvement over the variant: parent - variant, negated
    for a lower-is-better metric."""
    p, lo, hi = number(diff.get("point")), number(diff.get("low")), number(diff.get("high"))
    return (-p, -hi, -lo) if metric in LOWER_IS_BETTER else (p, lo, hi)


def ablation_rows(
    replicates: dict,
    points: Mapping,
    variants: Mapping[str, str],
    scopes: Sequence[str],
    alpha: float,
    metrics: Sequence[str] = tuple(m for m, _ in TABLE2_COLUMNS),
    floors: Mapping | None = None,
) -> list[dict]:
    """One row per (variant, scope, metric): the paired pooled interval of parent - variant and
    its verdict. variants: {variant: parent}; points[system][scope][metric] = per-seed values;
    floors[scope][metric] = the floor (None or absent: no floor, no floor rule)."""
    rows = []
    for variant, parent in variants.items():
        for scope in scopes:
            for metric in metrics:
                diff = paired_difference(replicates, points, parent, variant, scope, metric, alpha)
                verdict = VERDICTS.get(decide(diff, metric), NO_EFFECT)
                floor = ((floors or {}).get(scope) or {}).get(metric)
                if floor is not None:
                    pooled = [float(np.mean(points[s][scope][metric])) for s in (parent, variant)]
                    if not all(clears_floor(v, floor, metric) for v in pooled):
                        verdict = BELOW_FLOOR
                rows.append(
                    {
                        "variant": variant,
                        "parent": parent,
                        "scope": scope,
                        "metric": metric,
                        "diff": {k: diff[k] for k in ("point", "low", "high")},
                        "floor": floor,
                        "verdict": verdict,
                    }
                )
    return rows


# The floor baselines are human answers from the prompt's own bucket, so they are in the prompt's
# language by construction: their fidelity (1.0 in most runs) cannot be beaten, and a fidelity
# difference between two systems means the same whether or not they reach it.
NO_FLOOR = {"language_fidelity"}


def metric_floors(summary: Mapping, scopes: Sequence[str], metrics: Sequence[str]) -> dict:
    """{scope: {metric: floor}} from Table 2's summary (its floor baselines); a metric without
    a floor, or in NO_FLOOR, is left out."""
    floors = {}
    for scope in scopes:
        for metric in (m for m in metrics if m not in NO_FLOOR):
            f = floor_value(summary, scope, metric)
            if f is not None:
                floors.setdefault(scope, {})[metric] = f[0]
    return floors


def _cell(row: dict) -> str:
    text = format_ci(row["diff"])
    if text == MISSING:
        return text
    return f"{text} {MARKS.get(row['verdict'], '')}".rstrip()


def ablation_sections(rows: Sequence[dict], labels: Mapping[str, str]) -> list[dict]:
    """One table per scope: variant x metric, cells 'parent - variant [interval]' marked + when the
    component helps, − when it hurts."""
    metric_labels = METRIC_LABELS
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    sections = []
    for scope in dict.fromkeys(r["scope"] for r in rows):
        table = []
        for variant in dict.fromkeys(r["variant"] for r in rows):
            cells = {r["metric"]: r for r in rows if r["variant"] == variant and r["scope"] == scope}
            parent = next(iter(cells.values()))["parent"]
            table.append(
                [labels.get(variant, variant), labels.get(parent, parent)]
                + [_cell(cells[m]) for m in metrics]
            )
        sections.append(
            {
                "title": f"Ablations ({scope})",
                "caption": (
                    f"Language {scope}: parent minus variant, seed means with the pooled two-level "
                    "interval on the same paired draws as Table 2 (BNG-macro and the AI rate: lower "
                    "is better; the AI rate is the mean over Table 4's detectors at the primary "
                    "calibrated FPR, with Table 4's paired draws). "
                    "+: the component the variant changes helps (the parent is better), "
                    "−: it hurts; ‡: the parent or the variant does not beat the floor of the metric "
                    "(the better prompt-blind human baseline), so the difference is no evidence; "
                    "unmarked: no detectable effect."
                ),
                "headers": ["Variant", "Parent"] + [metric_labels.get(m, m) for m in metrics],
                "rows": table,
            }
        )
    return sections


def write_ablation_table(rows: Sequence[dict], labels: Mapping[str, str], md_path, tex_path) -> None:
    if not rows:
        raise InputError("ablation table: no variants (config `variants:` is empty)")
    write_tables(ablation_sections(rows, labels), md_path, tex_path)


def component_verdict(verdicts: Sequence[str]) -> str:
    """One verdict for a variant over all its (metric, language) cells: helps (some cell helps,
    none hurts), hurts, mixed (both); without either, no evidence when any cell is below the
    floor (saying how many), else no detectable effect."""
    found = set(verdicts)
    if "helps" in found and "hurts" in found:
        return "mixed"
    if "helps" in found:
        return "helps"
    if "hurts" in found:
        return "hurts"
    below = sum(v == BELOW_FLOOR for v in verdicts)
    if below == len(verdicts) and below:
        return "no evidence (below floor)"
    if below:
        return f"no evidence ({below} of {len(verdicts)} cells below floor, no detectable effect in the rest)"
    return NO_EFFECT


def verdict_lines(rows: Sequence[dict], labels: Mapping[str, str]) -> list[str]:
    """'What does the work': per variant, the component's overall verdict and the metrics on which
    it helps, hurts or cannot be judged (below the floor)."""
    metric_labels = METRIC_LABELS
    lines = []
    for variant in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == variant]
        parts = []
        for verdict in ("helps", "hurts", BELOW_FLOOR):
            cells = [
                f"{metric_labels.get(r['metric'], r['metric'])} ({r['scope']})"
                for r in mine
                if r["verdict"] == verdict
            ]
            if cells:
                parts.append(f"{verdict}: {', '.join(cells)}")
        overall = component_verdict([r["verdict"] for r in mine])
        detail = f" ({'; '.join(parts)})" if parts else ""
        parent = mine[0]["parent"]
        lines.append(
            f"- {labels.get(variant, variant)} vs {labels.get(parent, parent)}: **{overall}**{detail}"
        )
    return lines


def work_section(rows: Sequence[dict], labels: Mapping[str, str]) -> list[str]:
    """The replication report's 'What does the work' section from the ablation rows."""
    return [
        "",
        "## What does the work (ablations)",
        "",
        "Each variant of the config's `variants:` changes one component of its parent and is "
        "trained, generated and evaluated on the same seeds and prompts. The verdict is the "
        "parent's improvement over the variant, decided like the claims: **helps** or **hurts** "
        "when the pooled two-level interval of the paired difference (Table 2's draws) excludes "
        "0, **below floor** when the parent or the variant does not beat the prompt-blind floor "
        "(no evidence), otherwise no detectable effect. Overall per component: helps or hurts "
        "when its cells agree, mixed when they disagree. Every cell with its interval: "
        "paper_figures/table_ablations.md.",
        "",
        *verdict_lines(rows, labels),
    ]


def figure_ablations(
    rows: Sequence[dict], labels: Mapping[str, str], png_path, pdf_path, cjk_font: str | None = None
) -> None:
    """Panel per Table 2 metric: per variant and language the parent's improvement over the
    variant (> 0: the component helps) with its pooled interval."""
    from .figures import _style, font_chain, plt, save_figure

    if not rows:
        raise InputError("ablation figure: no variants (config `variants:` is empty)")
    metric_labels = METRIC_LABELS
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    scopes = list(dict.fromkeys(r["scope"] for r in rows))
    chain = font_chain(cjk_font)
    offsets = np.linspace(-0.2, 0.2, len(scopes)) if len(scopes) > 1 else np.zeros(1)
    with plt.rc_context(_style(chain)):
        fig, axes = plt.subplots(
            1,
            len(metrics),
            figsize=(2.4 * len(metrics), 0.6 * len(variants) + 1.4),
            sharey=True,
            layout="constrained",
        )
        axes = np.atleast_1d(axes)
        for ax, metric in zip(axes, metrics):
            for k, scope in enumerate(scopes):
                for i, variant in enumerate(variants):
                    row = next(
                        r for r in rows if (r["variant"], r["scope"], r["metric"]) == (variant, scope, metric)
                    )
                    p, lo, hi = improvement(row["diff"], metric)
                    if not np.isfinite(p):
                        continue
                    err = [[p - lo], [hi - p]] if np.isfinite(lo) and np.isfinite(hi) else None
                    ax.errorbar(
                        p,
                        i + offsets[k],
                        xerr=err,
                        fmt="o",
                        color=f"C{k}",
                        capsize=2,
                        label=scope if i == 0 else None,
                    )
            ax.axvline(0.0, color="0.3", lw=0.8)
            ax.set_title(metric_labels.get(metric, metric))
            ax.set_yticks(range(len(variants)), [labels.get(v, v) for v in variants])
        axes[0].invert_yaxis()
        axes[-1].legend(title="language", loc="best", fontsize="small")
        fig.supxlabel("parent − variant (oriented: > 0 = the component helps)")
        save_figure(fig, png_path, pdf_path, chain)
