"""Every figure function writes a non-empty PNG + PDF pair, byte-identical across two calls;
CJK text renders with a CJK font and becomes "?" with a warning without one; legends sit
outside the axes; axes fit the data."""

import numpy as np
import pytest

from polyalign.report import figures as F
from polyalign.report.seed_figure import figure_per_seed_metrics, per_seed_values

from .fake_summary import summary


def _tsne(png, pdf):
    rng = np.random.default_rng(0)
    groups = [
        ("human", rng.normal(size=(25, 6))),
        ("BaseLM", rng.normal(size=(25, 6)) + 0.5),
        ("HDPO", rng.normal(size=(25, 6)) + 0.2),
    ]
    F.figure_tsne({"en": groups, "zh": groups[:2]}, png, pdf, max_points=20, perplexity=5)


def _inventory(png, pdf):
    counts = {
        "en|multi|dialogue|short": {"train": 120, "test": 30},
        "en|single|qa|short": {"train": 40, "test": 8},
        "zh|single|qa|short": {"train": 25, "test": 0},
    }
    F.figure_bucket_inventory(counts, png, pdf, min_bucket_size=20)


def _heatmap(png, pdf):
    F.figure_bng_heatmap(F.bucket_metric_table(summary()["per_bucket"]), png, pdf)


def _frontier(png, pdf):
    per_bucket = summary()["per_bucket"]
    F.figure_nuf_frontier(
        {s: per_bucket[s] for s in ("sft", "hdpo")}, png, pdf, hypervolume={"hdpo": {"en": 0.5, "zh": None}}
    )


def _lengths(png, pdf):
    records = [
        {
            "id": str(i),
            "language": lang,
            "bucket_id": f"{lang}|single|qa|short",
            "human_answer": "word " * (1 + i % 7),
        }
        for i, lang in enumerate(["en", "zh"] * 15)
    ]
    answers = {
        "SFT": {r["id"]: "a b c" for r in records},
        "HDPO": {r["id"]: "x " * (1 + int(r["id"]) % 4) for r in records},
    }
    F.figure_length_distributions(F.length_table(records, answers), png, pdf)


def _critic(png, pdf):
    rng = np.random.default_rng(1)
    human = [
        {"id": str(i), "bucket_id": "en|x", "score": float(v)} for i, v in enumerate(rng.normal(size=30))
    ]
    human += [{"id": "z", "bucket_id": "zh|x", "score": 0.1}, {"id": "n", "bucket_id": "zh|x", "score": None}]
    F.figure_critic_scores([("human", human), ("SFT", list(rng.normal(1, 1, size=30)))], png, pdf)


def _per_seed(png, pdf):
    figure_per_seed_metrics(summary(), png, pdf, systems=["sft", "bucket_sft", "hdpo"])


def test_per_seed_values_come_from_the_summary():
    values = per_seed_values(summary(), ["sft"], "en", "qa_f1")
    assert values["sft"][:3] == pytest.approx((0.3, 0.25, 0.35))
    assert values["sft"][3] == pytest.approx([0.29, 0.31])


@pytest.mark.slow  # trains or renders repeatedly: full lane only
@pytest.mark.parametrize("draw", [_tsne, _inventory, _heatmap, _frontier, _lengths, _critic, _per_seed])
def test_figure_pair_is_written_and_deterministic(draw, tmp_path):
    paths = []
    for k in range(2):
        png, pdf = tmp_path / f"f{k}.png", tmp_path / f"f{k}.pdf"
        draw(png, pdf)
        paths.append((png.read_bytes(), pdf.read_bytes()))
    (png0, pdf0), (png1, pdf1) = paths
    assert png0.startswith(b"\x89PNG") and pdf0.startswith(b"%PDF") and len(png0) > 1000
    assert png0 == png1 and pdf0 == pdf1
    assert b"CreationDate" not in pdf0
    assert not list(tmp_path.glob(".*.tmp"))


def test_cjk_text_without_font_is_drawn_as_question_marks_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(F, "CJK_FONT_CANDIDATES", ())
    with pytest.warns(F.MissingGlyphWarning, match="no font for '人类'"):
        F.figure_critic_scores([("人类", [0.1, 0.2]), ("SFT", [0.3])], tmp_path / "a.png", tmp_path / "a.pdf")
    assert (tmp_path / "a.png").stat().st_size > 1000 and (tmp_path / "a.pdf").stat().st_size > 1000
    fig, ax = F.plt.subplots()
    ax.set_title("人 and A")
    fig.canvas.draw()
    assert F.replace_missing_glyphs(fig, [F.BASE_FONT]) == "人"
    assert ax.get_title() == "? and A"
    F.plt.close(fig)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        F.figure_critic_scores(
            [("human", [0.1])], tmp_path / "a.png", tmp_path / "a.pdf", cjk_font=str(tmp_path / "missing.ttf")
        )


@pytest.mark.skipif(F.resolve_cjk_font() is None, reason="no CJK font on this machine (optional)")
def test_cjk_text_renders_with_a_cjk_font(tmp_path):
    F.figure_critic_scores([("人类", [0.1, 0.2]), ("SFT", [0.3])], tmp_path / "a.png", tmp_path / "a.pdf")
    assert (tmp_path / "a.pdf").stat().st_size > 1000


def test_empty_inputs_give_an_explicit_placeholder(tmp_path):
    import pandas as pd

    F.figure_bng_heatmap(pd.DataFrame(index=["SFT"]), tmp_path / "h.png", tmp_path / "h.pdf")
    F.figure_critic_scores(
        [("human", [{"bucket_id": "en|x", "score": None}])], tmp_path / "c.png", tmp_path / "c.pdf"
    )
    assert (tmp_path / "h.png").stat().st_size > 0 and (tmp_path / "c.pdf").stat().st_size > 0


def test_critic_scale_is_log1p_and_odd():
    e1 = np.e - 1
    assert np.allclose(F.critic_scale([0.0, e1, -e1, 7e6]), [0.0, 1.0, -1.0, np.log(7e6 + 1)])


def test_axis_limit_fits_the_data():
    assert F.axis_limit([0.02, 0.08]) == pytest.approx(0.088)  # 0.08 * 1.1
    assert F.axis_limit([0.001]) == 0.05  # floor
    assert F.axis_limit([0.99, None, float("nan")]) == pytest.approx(1.02)  # cap + margin/5
    assert F.axis_limit([]) == 0.05


@pytest.fixture
def drawn(monkeypatch):
    """The figures drawn by a figure function, drawn on a canvas instead of saved."""
    figs = []

    def keep(fig, png_path, pdf_path, chain):
        fig.canvas.draw()
        figs.append(fig)

    monkeypatch.setattr(F, "save_figure", keep)
    yield figs
    for fig in figs:
        F.plt.close(fig)


@pytest.mark.parametrize("draw", [_tsne, _inventory, _lengths, _critic])
def test_no_legend_covers_an_axes(drawn, tmp_path, draw):
    draw(tmp_path / "a.png", tmp_path / "a.pdf")
    (fig,) = drawn
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert legends, "the figure has a legend"
    renderer = fig.canvas.get_renderer()
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), (legend, ax.get_title())


def test_nuf_axes_fit_points_near_zero(drawn, tmp_path):
    per_bucket = {
        "sft": {
            "en|a": {"language": "en", "nuf_point": [0.04, 0.06], "on_frontier": True},
            "en|b": {"language": "en", "nuf_point": [0.02, 0.09], "on_frontier": True},
        }
    }
    F.figure_nuf_frontier(per_bucket, tmp_path / "n.png", tmp_path / "n.pdf")
    (fig,) = drawn
    ax = fig.axes[0]
    assert ax.get_xlim() == pytest.approx((0, 0.05)) and ax.get_ylim() == pytest.approx((0, 0.099))


def test_critic_axis_is_on_the_log1p_scale(drawn, tmp_path):
    F.figure_critic_scores([("human", [0.0, 1.0]), ("SFT", [7e6])], tmp_path / "c.png", tmp_path / "c.pdf")
    (fig,) = drawn
    lo, hi = fig.axes[0].get_xlim()
    assert lo > -2 and hi < np.log1p(7e6) + 2  # about 0 to 15.8, not 0 to 7e6


def test_per_seed_figure_draws_an_interval_that_excludes_the_plug_in_point(tmp_path):
    """A bias-corrected interval of a plug-in distance can lie beside its point (BNG on the micro
    run: point 0.865, interval [0.529, 0.850]); the figure draws both rather than failing."""
    s = summary()
    ci = s["headline"]["sft"]["en"]["qa_f1"]
    ci.update(point=0.40, low=0.25, high=0.35)
    figure_per_seed_metrics(s, tmp_path / "f.png", tmp_path / "f.pdf", systems=["sft", "hdpo"])
    assert (tmp_path / "f.png").stat().st_size > 0
