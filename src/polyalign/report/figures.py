"""The paper's figures with seaborn (PNG + PDF, byte-identical across runs; docs/evaluation.md).

Every function draws one figure from plain inputs and writes the PNG/PDF pair atomically.
Determinism: Agg backend, no timestamps or software strings in the files, seeded t-SNE on one
thread. Fonts: DejaVu Sans, with a CJK font as fallback when one is configured (`cjk_font`, a
file path) or found at a known system path. No label the workflow draws needs one (bucket ids are
ASCII); if a text ever has a character no font covers, it is drawn as "?" with a warning naming
the characters, never as an invisible box and never by asking for a system package.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from ..config import block_defaults  # noqa: E402
from ..io import atomic_path  # noqa: E402
from .inventory import bucket_label  # noqa: E402

# Keyword defaults of figure_tsne are the config schema's figures.tsne block (written there only).
_TSNE = block_defaults("figures", "tsne")

BASE_FONT = "DejaVu Sans"
CJK_FONT_CANDIDATES = (  # used when present; never required
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
INSTALL_HINT = "set figures.cjk_font to the path of a .ttf/.ttc/.otf file with CJK glyphs"
MISSING_GLYPH = "?"
PNG_METADATA = {"Software": None}
PDF_METADATA = {"CreationDate": None, "Creator": None, "Producer": None}
DPI = 150


class MissingGlyphWarning(UserWarning):
    """A figure text contained characters that no configured font can draw (drawn as "?")."""


def resolve_cjk_font(path: str | None = None) -> Path | None:
    """The configured CJK font file (must exist), else the first known Debian font, else None."""
    if path:
        font = Path(path)
        if not font.is_file():
            raise FileNotFoundError(f"configured CJK font {font} does not exist; {INSTALL_HINT}")
        return font
    return next((Path(p) for p in CJK_FONT_CANDIDATES if Path(p).is_file()), None)


def font_chain(cjk_font: str | None = None) -> list[str]:
    """Font family names in fallback order: DejaVu Sans, then the CJK font if there is one."""
    font = resolve_cjk_font(cjk_font)
    if font is None:
        return [BASE_FONT]
    font_manager.fontManager.addfont(str(font))
    return [BASE_FONT, font_manager.FontProperties(fname=str(font)).get_name()]


@cache
def _charmap(family: str) -> frozenset[int]:
    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    return frozenset(FT2Font(path).get_charmap())


def replace_missing_glyphs(fig, chain: Sequence[str]) -> str:
    """Replace, in every visible text of the (drawn) figure, each character outside every font of
    chain by MISSING_GLYPH, warn once naming them, and return them ("" when none). Tick labels
    exist only after a draw: call it after a first savefig."""
    covered = frozenset().union(*(_charmap(f) for f in chain))
    missing_all = set()
    for text in fig.findobj(Text):
        content = text.get_text()
        missing = {ch for ch in content if not ch.isspace() and ord(ch) not in covered}
        if missing and text.get_visible():
            missing_all |= missing
            text.set_text("".join(MISSING_GLYPH if ch in missing else ch for ch in content))
    if missing_all:
        warnings.warn(
            f"no font for {''.join(sorted(missing_all))!r} (fonts: {list(chain)}): drawn as "
            f"{MISSING_GLYPH!r}; {INSTALL_HINT}",
            MissingGlyphWarning,
            stacklevel=3,
        )
    return "".join(sorted(missing_all))


def save_figure(fig, png_path, pdf_path, chain: Sequence[str]) -> None:
    """Write PNG and PDF without timestamps, both or neither (atomic); characters no font has are
    replaced (with a warning) after the first draw, and the PNG redrawn; close the figure."""
    try:
        with atomic_path(png_path) as tmp_png:
            fig.savefig(tmp_png, format="png", metadata=PNG_METADATA, dpi=DPI)
            if replace_missing_glyphs(fig, chain):
                fig.savefig(tmp_png, format="png", metadata=PNG_METADATA, dpi=DPI)
            with atomic_path(pdf_path) as tmp_pdf:
                fig.savefig(tmp_pdf, format="pdf", metadata=PDF_METADATA, dpi=DPI)
    finally:
        plt.close(fig)


def _style(chain: Sequence[str]) -> dict:
    return {
        **sns.axes_style("whitegrid"),
        **sns.plotting_context("paper"),
        "font.family": list(chain),
        "svg.hashsalt": "polyalign",
    }


def _message(ax, text: str) -> None:
    """Say in the panel why it is empty (a small configuration), instead of failing or drawing
    an empty frame."""
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)
    ax.set(xticks=[], yticks=[])


def placeholder_figure(png_path, pdf_path, text: str, cjk_font: str | None = None) -> None:
    chain = font_chain(cjk_font)
    with plt.rc_context(_style(chain)):
        fig, ax = plt.subplots(figsize=(6, 2), layout="constrained")
        _message(ax, text)
        save_figure(fig, png_path, pdf_path, chain)


def _legend_outside(ax, title: str | None = None) -> None:
    """The axes' legend to the right of the panel, so that it never covers data (constrained
    layout makes room for it)."""
    where = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0, "frameon": False}
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, title=title, **where)
    elif ax.get_legend() is not None:  # a seaborn legend whose artists carry no labels
        sns.move_legend(ax, title=title, **where)


def axis_limit(values, margin: float = 0.1, floor: float = 0.05, cap: float = 1.0) -> float:
    """Upper axis limit for values in [0, cap]: the largest value plus a margin, at least `floor`
    and at most cap (plus the same margin), so that points near 0 are not squeezed into a corner."""
    finite = [float(v) for v in values if v is not None and np.isfinite(v)]
    top = max(finite, default=0.0)
    return min(max(top * (1 + margin), floor), cap * (1 + margin / 5))


def critic_scale(scores) -> np.ndarray:
    """The critic's own scale: log1p of its D_b estimate (the target it is trained on with
    critic.target_transform log1p), extended to negative predictions as −log1p(−s)."""
    x = np.asarray(scores, dtype=np.float64)
    return np.sign(x) * np.log1p(np.abs(x))


def _languages(buckets) -> list[str]:
    return sorted({b.split("|", 1)[0] for b in buckets})


def figure_tsne(
    panels: Mapping[str, Sequence[tuple[str, np.ndarray]]],
    png_path,
    pdf_path,
    *,
    seed: int = _TSNE["seed"],
    perplexity: float = _TSNE["perplexity"],
    max_points: int = _TSNE["max_points"],
    cjk_font: str | None = None,
) -> None:
    """Figure 1 (right): t-SNE of response embeddings, one panel per language (panels[lang] =
    [(label, E), ...]); each group is subsampled to max_points (seeded), rows L2-normalised,
    centroids in the 2-D map marked with a cross."""
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    chain = font_chain(cjk_font)
    with plt.rc_context(_style(chain)):
        fig, axes = plt.subplots(
            1, len(panels), figsize=(4.2 * len(panels), 4), squeeze=False, layout="constrained"
        )
        colors = sns.color_palette("colorblind")
        for ax, (lang, groups) in zip(axes[0], panels.items()):
            rng = np.random.default_rng(seed)
            parts = []
            for label, E in groups:
                E = np.asarray(E, dtype=np.float64)
                if E.shape[0] > max_points:
                    E = E[np.sort(rng.choice(E.shape[0], max_points, replace=False))]
                parts.append((label, E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)))
            X = np.concatenate([E for _, E in parts])
            if X.shape[0] < 5:
                _message(ax, f"{lang}: only {X.shape[0]} responses, no t-SNE map")
                continue
            tsne = TSNE(
                n_components=2,
                init="pca",
                random_state=seed,
                learning_rate="auto",
                perplexity=min(perplexity, (X.shape[0] - 1) / 3),
            )
            with threadpool_limits(1):
                Y = tsne.fit_transform(X)
            start = 0
            for k, (label, E) in enumerate(parts):
                pts = Y[start : start + E.shape[0]]
                start += E.shape[0]
                ax.scatter(pts[:, 0], pts[:, 1], s=6, alpha=0.45, color=colors[k], label=label)
                ax.scatter(
                    *pts.mean(axis=0),
                    s=160,
                    marker="X",
                    color=colors[k],
                    edgecolor="black",
                    linewidth=1.2,
                    zorder=5,
                )
            ax.set(title=f"{lang} (n per group <= {max_points}; X = centroid)", xticks=[], yticks=[])
        _legend_outside(axes[0, -1])
        save_figure(fig, png_path, pdf_path, chain)


def inventory_counts(bucket_stats: dict, splits: Sequence[str] = ("train", "test")) -> dict:
    """{bucket: {split: count}} from results/corpus/bucket_stats.json."""
    return {b: {s: int(v[s]) for s in splits} for b, v in bucket_stats["buckets"].items()}


def figure_bucket_inventory(
    counts: Mapping[str, Mapping[str, int]],
    png_path,
    pdf_path,
    *,
    min_bucket_size: int | None = None,
    cjk_font: str | None = None,
) -> None:
    """Bar chart of the records per bucket and split, one panel per language (log scale)."""
    rows = [
        {"bucket": bucket_label(b), "language": b.split("|", 1)[0], "split": s, "count": k}
        for b in sorted(counts)
        for s, k in counts[b].items()
    ]
    df = pd.DataFrame(rows)
    langs = _languages(counts)
    chain = font_chain(cjk_font)
    with plt.rc_context(_style(chain)):
        heights = [max(2.0, 0.32 * df[df.language == lang].bucket.nunique()) for lang in langs]
        fig, axes = plt.subplots(
            len(langs),
            1,
            figsize=(7, sum(heights) + 1),
            squeeze=False,
            sharex=True,
            gridspec_kw={"height_ratios": heights},
            layout="constrained",
        )
        for ax, lang in zip(axes[:, 0], langs):
            sub = df[(df.language == lang) & (df["count"] > 0)]
            sns.barplot(
                data=sub,
                y="bucket",
                x="count",
                hue="split",
                orient="h",
                ax=ax,
                palette="colorblind",
                order=sorted(sub.bucket.unique()),
            )
            ax.set_xscale("log")
            ax.set_xlim(left=0.8)
            if min_bucket_size:
                ax.axvline(
                    min_bucket_size,
                    color="black",
                    linestyle="--",
                    linewidth=1,
                    label=f"min_bucket_size = {min_bucket_size}",
                )
            ax.set(title=f"buckets ({lang})", xlabel="records (log scale)", ylabel="")
            _legend_outside(ax)
        save_figure(fig, png_path, pdf_path, chain)


def bucket_metric_table(
    per_bucket: Mapping[str, Mapping[str, dict]], metric: str = "bng", labels: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Systems x buckets of a per-bucket metric (summary['per_bucket']); buckets where no system
    has a value are dropped."""
    data = {
        (labels or {}).get(s, s): {b: v.get(metric) for b, v in buckets.items()}
        for s, buckets in per_bucket.items()
    }
    df = pd.DataFrame(data).T.astype(float)
    return df[sorted(c for c in df.columns if df[c].notna().any())]


def figure_bng_heatmap(
    table: pd.DataFrame, png_path, pdf_path, *, title: str = "BNG per bucket", cjk_font: str | None = None
) -> None:
    """Heatmap systems x buckets (lower = closer to the human answers); robust colour range."""
    if table.shape[1] == 0:
        return placeholder_figure(png_path, pdf_path, "no bucket has enough test prompts for BNG", cjk_font)
    chain = font_chain(cjk_font)
    table = table.rename(columns=bucket_label)
    with plt.rc_context(_style(chain)):
        fig, ax = plt.subplots(
            figsize=(2.0 + 0.8 * table.shape[1], 2.6 + 0.45 * table.shape[0]), layout="constrained"
        )
        sns.heatmap(
            table,
            annot=True,
            fmt=".2f",
            cmap="rocket_r",
            robust=True,
            ax=ax,
            mask=table.isna(),
            cbar_kws={"label": title},
            linewidths=0.5,
        )
        ax.set(title=title, xlabel="", ylabel="")
        ax.tick_params(axis="x", rotation=60)
        ax.tick_params(axis="y", rotation=0)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
        save_figure(fig, png_path, pdf_path, chain)


def _staircase(front: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Boundary of the area dominated by the frontier points (sorted by u ascending)."""
    xs, ys = [0.0], [front[0][1]]
    for k, (u, n) in enumerate(front):
        xs += [u, u]
        ys += [n, front[k + 1][1] if k + 1 < len(front) else 0.0]
    return xs, ys


def figure_nuf_frontier(
    per_bucket: Mapping[str, Mapping[str, dict]],
    png_path,
    pdf_path,
    *,
    hypervolume: Mapping[str, Mapping[str, float]] | None = None,
    cjk_font: str | None = None,
) -> None:
    """Naturalness-utility frontier: panel per (language, system) with every bucket's (u, n),
    the frontier buckets highlighted and the dominated area shaded (its size = NUF)."""
    systems = list(per_bucket)
    langs = _languages({b for s in systems for b in per_bucket[s]})
    chain = font_chain(cjk_font)
    with plt.rc_context(_style(chain)):
        fig, axes = plt.subplots(
            len(langs),
            len(systems),
            figsize=(2.6 * len(systems), 2.6 * len(langs)),
            squeeze=False,
            sharex=True,
            sharey=True,
            layout="constrained",
        )
        points = [
            p for s in systems for v in per_bucket[s].values() if v.get("nuf_point") for p in [v["nuf_point"]]
        ]
        u_max = axis_limit([p[0] for p in points])
        n_max = axis_limit([p[1] for p in points])
        for i, lang in enumerate(langs):
            for j, system in enumerate(systems):
                ax = axes[i, j]
                rows = {
                    b: v
                    for b, v in per_bucket[system].items()
                    if v.get("language") == lang and v.get("nuf_point")
                }
                pts = np.array([rows[b]["nuf_point"] for b in sorted(rows)]).reshape(-1, 2)
                front = sorted(tuple(rows[b]["nuf_point"]) for b in rows if rows[b]["on_frontier"])
                ax.scatter(pts[:, 0], pts[:, 1], s=14, color="grey", alpha=0.7)
                if front:
                    xs, ys = _staircase(front)
                    ax.plot(xs, ys, color="C0", linewidth=1.5, drawstyle="default")
                    ax.fill_between(xs, ys, color="C0", alpha=0.15)
                    ax.scatter(*zip(*front), s=22, color="C0", zorder=4)
                hv = (hypervolume or {}).get(system, {}).get(lang)
                hv_text = "" if hv is None or hv != hv else f", NUF {hv:.3f}"
                ax.set(title=f"{system} ({lang}){hv_text}", xlim=(0, u_max), ylim=(0, n_max))
                ax.set(
                    xlabel="utility u (QA-F1)" if i == len(langs) - 1 else "",
                    ylabel="naturalness n" if j == 0 else "",
                )
        save_figure(fig, png_path, pdf_path, chain)


def length_table(
    records: Sequence[dict], answers: Mapping[str, Mapping[str, str]], human_label: str = "human"
) -> pd.DataFrame:
    """Long table (source, language, bucket, length tokens) of human answers and system answers
    (answers[label][id])."""
    from ..text import count_length_tokens

    rows = []
    for r in records:
        texts = [(human_label, r["human_answer"])] + [(lab, a[r["id"]]) for lab, a in answers.items()]
        for source, text in texts:
            rows.append(
                {
                    "source": source,
                    "language": r["language"],
                    "bucket": r["bucket_id"],
                    "length": count_length_tokens(text),
                }
            )
    return pd.DataFrame(rows)


def figure_length_distributions(
    table: pd.DataFrame,
    png_path,
    pdf_path,
    *,
    buckets: Sequence[str] | None = None,
    cjk_font: str | None = None,
) -> None:
    """Box plots of response length (length tokens) per bucket, human vs systems, per language."""
    if buckets is not None:
        table = table[table.bucket.isin(list(buckets))]
    if table.empty:
        return placeholder_figure(png_path, pdf_path, "no bucket has enough test prompts", cjk_font)
    table = table.assign(bucket=table.bucket.map(bucket_label))
    langs = sorted(table.language.unique())
    chain = font_chain(cjk_font)
    with plt.rc_context(_style(chain)):
        fig, axes = plt.subplots(
            len(langs), 1, figsize=(9, 3.2 * len(langs)), squeeze=False, layout="constrained"
        )
        for ax, lang in zip(axes[:, 0], langs):
            sub = table[table.language == lang]
            sns.boxplot(
                data=sub,
                x="bucket",
                y="length",
                hue="source",
                ax=ax,
                fliersize=1.5,
                palette="colorblind",
                order=sorted(sub.bucket.unique()),
                hue_order=list(dict.fromkeys(table.source)),
            )
            ax.set(title=f"response length ({lang})", xlabel="", ylabel="length tokens (symlog: 0 = empty)")
            ax.set_yscale("symlog", linthresh=1)
            ax.set_ylim(bottom=0)
            ax.tick_params(axis="x", rotation=25)
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("right")
            _legend_outside(ax)
        save_figure(fig, png_path, pdf_path, chain)


def figure_critic_scores(
    groups: Sequence[tuple[str, Sequence]], png_path, pdf_path, *, bins: int = 30, cjk_font: str | None = None
) -> None:
    """Critic score distributions (lower = more human-like) of human vs model responses, on the
    critic's own log1p scale (`critic_scale`): raw D_b estimates are heavy-tailed (a linear axis
    put nearly all mass in its first bin).

    groups: [(label, scores)], scores either floats or rows {score, bucket_id}; with bucket ids
    on every row there is one panel per language."""
    rows = []
    for label, scores in groups:
        for s in scores:
            if isinstance(s, Mapping) and s.get("score") is None:
                continue  # a response the critic could not score (reported by its rule)
            if isinstance(s, Mapping):
                lang = s["bucket_id"].split("|", 1)[0] if "bucket_id" in s else "all"
                rows.append({"source": label, "language": lang, "score": float(s["score"])})
            else:
                rows.append({"source": label, "language": "all", "score": float(s)})
    if not rows:
        return placeholder_figure(png_path, pdf_path, "no critic score to show", cjk_font)
    df = pd.DataFrame(rows)
    df["score"] = critic_scale(df.score)
    lo, hi = float(df.score.min()), float(df.score.max())
    edges = np.linspace(lo - 0.5, hi + 0.5, bins + 1) if hi <= lo else np.linspace(lo, hi, bins + 1)
    langs = sorted(df.language.unique())
    chain = font_chain(cjk_font)
    with plt.rc_context(_style(chain)):
        fig, axes = plt.subplots(
            1, len(langs), figsize=(4.5 * len(langs), 3.4), squeeze=False, layout="constrained"
        )
        for ax, lang in zip(axes[0], langs):
            sns.histplot(
                data=df[df.language == lang],
                x="score",
                hue="source",
                bins=edges,
                element="step",
                fill=False,
                stat="density",
                common_norm=False,
                ax=ax,
                hue_order=[g[0] for g in groups],
                palette="colorblind",
            )
            ax.set(title=f"critic scores ({lang})", xlabel="log(1 + critic score)  (lower = more human-like)")
            _legend_outside(ax)
        save_figure(fig, png_path, pdf_path, chain)
