"""Figure: every run seed's value of the Table 2 metrics per system, beside the pooled mean and
its two-level t interval, so a reader sees how much a number depends on the seed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..evaluation.store import number
from .figures import _style, font_chain, plt, save_figure
from .published import system_label
from .table2 import TABLE2_COLUMNS, ordered_systems

MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def per_seed_values(summary: dict, systems: Sequence[str], language: str, metric: str) -> dict:
    """{system: (pooled point, low, high, [per-seed points in summary seed order])}."""
    out = {}
    for s in systems:
        ci = summary["headline"][s][language][metric]
        out[s] = (
            number(ci["point"]),
            number(ci["low"]),
            number(ci["high"]),
            [number(ci["seeds"][k]["point"]) for k in summary["seeds"]],
        )
    return out


def figure_per_seed_metrics(
    summary: dict, png_path, pdf_path, *, systems: Sequence[str] | None = None, cjk_font: str | None = None
) -> None:
    """Panel per (language, Table 2 metric): per system the seeds' values (markers) and the
    pooled mean with its interval (black bar)."""
    systems = ordered_systems(summary, systems)
    langs = sorted(summary["languages"])
    seeds = summary["seeds"]
    chain = font_chain(cjk_font)
    x = np.arange(len(systems))
    with plt.rc_context(_style(chain)):
        fig, axes = plt.subplots(
            len(langs),
            len(TABLE2_COLUMNS),
            figsize=(2.4 * len(TABLE2_COLUMNS), 2.6 * len(langs) + 0.6),
            squeeze=False,
            sharex=True,
            layout="constrained",
        )
        for i, lang in enumerate(langs):
            for j, (metric, label) in enumerate(TABLE2_COLUMNS):
                ax = axes[i, j]
                values = per_seed_values(summary, systems, lang, metric)
                for k, seed in enumerate(seeds):
                    ax.scatter(
                        x + (k - (len(seeds) - 1) / 2) * 0.12,
                        [values[s][3][k] for s in systems],
                        s=16,
                        marker=MARKERS[k % len(MARKERS)],
                        color=f"C{k}",
                        label=f"seed {seed}" if i == j == 0 else None,
                        zorder=3,
                    )
                points = np.array([values[s][0] for s in systems])
                low = np.array([values[s][1] for s in systems])
                high = np.array([values[s][2] for s in systems])
                ok = np.isfinite(points) & np.isfinite(low) & np.isfinite(high)
                # the interval is centred on the bias-corrected point (docs/evaluation.md), so a
                # plug-in point may lie outside it: bar and mean are drawn separately
                ax.vlines(x[ok], low[ok], high[ok], color="black", linewidth=1.2, zorder=2)
                ax.scatter(
                    x[ok],
                    points[ok],
                    marker="_",
                    s=144,
                    color="black",
                    zorder=2,
                    label="mean over seeds [interval]" if i == j == 0 else None,
                )
                ax.set_title(f"{label} ({lang})", fontsize=9)
                ax.set_xticks(x, [system_label(s) for s in systems], rotation=60, ha="right", fontsize=7)
                ax.margins(y=0.15)
        fig.legend(loc="outside lower center", ncol=len(seeds) + 1, fontsize=8, frameon=False)
        save_figure(fig, png_path, pdf_path, chain)
