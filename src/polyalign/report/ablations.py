"""The ablation table: each variant (polyalign.variants) against its parent, per language, as the
paired difference parent - variant with the pooled two-level interval of Table 2.

The variants' replicates are drawn with the bootstrap settings of Table 2 and checked against
its saved seed draws (`merge_replicates`), so a difference subtracts replicate r of both systems
under the same seed and prompt draw: two identical systems differ by exactly 0.

Reading a row: the difference is oriented so that a positive value means the parent is better
(for BNG, lower is better, so parent - variant < 0 is better); the verdict says what the component
the variant removes or changes does, by the superiority rule of the claims (`replication.decide`):
**helps** when the interval of the parent's improvement lies above 0, **hurts** when it lies
below 0, **no detectable effect** otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..evaluation.pooled import paired_difference
from ..evaluation.store import number
from ..io import InputError
from .replication import CONTRADICTED, SUPPORTED, decide
from .table2 import MISSING, TABLE2_COLUMNS, format_ci
from .tables import write_tables

VERDICTS = {SUPPORTED: "helps", CONTRADICTED: "hurts"}
NO_EFFECT = "no detectable effect"


def improvement(diff: dict, metric: str) -> tuple[float, float, float]:
    """(point, low, high) of the parent's improvement over the variant: parent - variant, negated
    for a lower-is-better metric."""
    p, lo, hi = number(diff.get("point")), number(diff.get("low")), number(diff.get("high"))
    from .replication import LOWER_IS_BETTER

    return (-p, -hi, -lo) if metric in LOWER_IS_BETTER else (p, lo, hi)


def ablation_rows(
    replicates: dict,
    points: Mapping,
    variants: Mapping[str, str],
    scopes: Sequence[str],
    alpha: float,
    metrics: Sequence[str] = tuple(m for m, _ in TABLE2_COLUMNS),
) -> list[dict]:
    """One row per (variant, scope, metric): the paired pooled interval of parent - variant and
    its verdict. variants: {variant: parent}; points[system][scope][metric] = per-seed values."""
    rows = []
    for variant, parent in variants.items():
        for scope in scopes:
            for metric in metrics:
                diff = paired_difference(replicates, points, parent, variant, scope, metric, alpha)
                verdict = decide(diff, metric)
                rows.append(
                    {
                        "variant": variant,
                        "parent": parent,
                        "scope": scope,
                        "metric": metric,
                        "diff": {k: diff[k] for k in ("point", "low", "high")},
                        "verdict": VERDICTS.get(verdict, NO_EFFECT),
                    }
                )
    return rows


def _cell(row: dict) -> str:
    text = format_ci(row["diff"])
    if text == MISSING:
        return text
    return f"{text} {'+' if row['verdict'] == 'helps' else '−' if row['verdict'] == 'hurts' else ''}".rstrip()


def ablation_sections(rows: Sequence[dict], labels: Mapping[str, str]) -> list[dict]:
    """One table per scope: variant x metric, cells 'parent - variant [interval]' marked + when the
    component helps, − when it hurts."""
    metric_labels = dict(TABLE2_COLUMNS)
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
                    "interval on the same paired draws as Table 2 (BNG-macro: lower is better). "
                    "+: the component the variant changes helps (the parent is better), "
                    "−: it hurts; unmarked: no detectable effect."
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


def verdict_lines(rows: Sequence[dict], labels: Mapping[str, str]) -> list[str]:
    """'What does the work': per variant, the metrics on which its component helps or hurts."""
    metric_labels = dict(TABLE2_COLUMNS)
    lines = []
    for variant in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == variant]
        found = [
            f"{r['verdict']} {metric_labels.get(r['metric'], r['metric'])} ({r['scope']})"
            for r in mine
            if r["verdict"] != NO_EFFECT
        ]
        what = "; ".join(found) if found else "no detectable effect on any metric"
        lines.append(
            f"- {labels.get(variant, variant)} vs {labels.get(mine[0]['parent'], mine[0]['parent'])}: {what}"
        )
    return lines


def figure_ablations(
    rows: Sequence[dict], labels: Mapping[str, str], png_path, pdf_path, cjk_font: str | None = None
) -> None:
    """Panel per Table 2 metric: per variant and language the parent's improvement over the
    variant (> 0: the component helps) with its pooled interval."""
    from .figures import _style, font_chain, plt, save_figure

    if not rows:
        raise InputError("ablation figure: no variants (config `variants:` is empty)")
    metric_labels = dict(TABLE2_COLUMNS)
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
