"""The ROC figure of the AI-text detectors: one panel per detector and language."""

from __future__ import annotations

from collections.abc import Mapping

from .figures import _style, font_chain, plt, save_figure


def figure_detector_roc(
    curves: Mapping[str, Mapping[str, Mapping[str, tuple]]],
    png_path,
    pdf_path,
    *,
    cjk_font: str | None = None,
) -> None:
    """curves: {detector label: {language: {system label: (fpr, tpr, auroc)}}}."""
    detectors = list(curves)
    langs = sorted({lg for d in detectors for lg in curves[d]})
    chain = font_chain(cjk_font)
    with plt.rc_context(_style(chain)):
        fig, axes = plt.subplots(
            len(detectors),
            len(langs),
            figsize=(3.4 * len(langs), 3.1 * len(detectors)),
            squeeze=False,
            sharex=True,
            sharey=True,
            layout="constrained",
        )
        for i, det in enumerate(detectors):
            for j, lang in enumerate(langs):
                ax = axes[i, j]
                ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
                for k, (system, (fpr, tpr, auc)) in enumerate(curves[det].get(lang, {}).items()):
                    ax.plot(fpr, tpr, color=f"C{k}", linewidth=1.3, label=f"{system} ({auc:.2f})")
                ax.set(
                    title=f"{det} ({lang})",
                    xlim=(0, 1),
                    ylim=(0, 1.01),
                    xlabel="FPR (human answers flagged)" if i == len(detectors) - 1 else "",
                    ylabel="TPR (system outputs flagged)" if j == 0 else "",
                )
                ax.legend(fontsize=6, loc="lower right", title="AUROC", title_fontsize=6)
        save_figure(fig, png_path, pdf_path, chain)
