"""Table 3 aggregation: composites from chosen scores, two-level pooled intervals, agreement,
and a table that shows only published numbers when no judge ran."""

import numpy as np
import pytest

from polyalign.judge.pooling import two_level_mean_ci
from polyalign.metrics.judge import DIMENSIONS
from polyalign.report.published import load_published
from polyalign.report.table3 import judge_agreement, row_composites, summarize, table3_sections

RECORDS = [{"id": f"p{i}", "language": "en"} for i in range(4)]


def scored(pid, value, over=False):
    row = {"id": pid, "over_length": over}
    if not over:
        row["scores"] = {d: value for d in DIMENSIONS}
    return row


def test_row_composites_are_weighted_0_100_scores():
    # every dimension 4 -> 75 on the 0-100 scale; every composite's weights sum to 1
    assert row_composites(scored("p0", 4)) == pytest.approx(
        {c: 75.0 for c in row_composites(scored("p0", 4))}
    )
    mixed = {"id": "p", "scores": {d: 1 for d in DIMENSIONS} | {"task_success": 5}}
    # overall weight of task_success is 0.20: 0.20 * 100 = 20
    assert row_composites(mixed)["overall"] == pytest.approx(20.0)
    assert row_composites(mixed)["utility"] == pytest.approx(35.0)


def test_two_level_interval_point_is_the_mean_and_draws_are_shared():
    a = np.array([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]])
    out = two_level_mean_ci({"x": a, "y": a + 10}, n_resamples=1000, seed=0)
    assert out["x"]["point"] == pytest.approx(3.0)
    assert out["y"]["point"] == pytest.approx(13.0)
    # paired draws: y = x + 10 in every resample, so the intervals are shifted copies
    assert out["y"]["low"] - out["x"]["low"] == pytest.approx(10.0)
    assert out["y"]["high"] - out["x"]["high"] == pytest.approx(10.0)
    assert out["x"]["low"] < 3.0 < out["x"]["high"]


def test_nan_cells_are_left_out_of_the_mean():
    a = np.array([[1.0, np.nan, 3.0]])
    assert two_level_mean_ci({"x": a}, n_resamples=10, seed=0)["x"]["point"] == pytest.approx(2.0)


def test_summarize_pools_judges_and_reports_agreement():
    runs = {}
    for judge, offset in (("j1", 0), ("j2", 1)):
        for system, base in (("sft", 2), ("hdpo", 3)):
            runs[(judge, 0, system)] = [scored(r["id"], min(5, base + offset)) for r in RECORDS]
    runs[("j1", 0, "sft")][0] = scored("p0", 0, over=True)
    s = summarize(runs, RECORDS, [0], ["sft", "hdpo"], n_resamples=1000, seed=1)
    block = s["languages"]["en"]["by_judge"]
    assert block["j1"]["sft"]["overall"]["point"] == pytest.approx(25.0)  # score 2 -> 25
    assert block["j2"]["hdpo"]["overall"]["point"] == pytest.approx(75.0)  # score 4 -> 75
    # p0 is over length for j1: its cell is j2 alone (50); p1-p3 average 25 and 50 -> 37.5
    assert block["mean of judges"]["sft"]["overall"]["point"] == pytest.approx((50 + 3 * 37.5) / 4)
    assert s["counts"]["j1/sft"] == {"scored": 3, "over_length": 1}
    agree = s["languages"]["en"]["agreement"]["j1 vs j2"]["overall"]
    assert agree["mean_abs_diff"] == pytest.approx(25.0) and agree["n"] == 7
    assert agree["pearson"] == pytest.approx(1.0)


def test_agreement_is_nan_without_variation():
    arrays = {
        ("a", "s"): {
            c: np.ones((1, 3))
            for c in ("overall", "utility", "conditional_naturalness", "distribution_faithfulness")
        }
    }
    arrays[("b", "s")] = arrays[("a", "s")]
    out = judge_agreement(arrays, ["a", "b"], ["s"])
    assert np.isnan(out["a vs b"]["overall"]["pearson"]) and out["a vs b"]["overall"]["mean_abs_diff"] == 0


def test_table_without_judge_shows_only_published_numbers_and_the_reason():
    sections = table3_sections(None, load_published(), {}, "no judge offline")
    assert sections[0]["rows"] == [["no judge offline"]]
    published = sections[-1]["rows"]
    assert ["Qwen2.5-1.5B", "en", "Full-SFT", "76.9", "71.7"] in published
    assert ["Qwen2.5-1.5B", "en", "Bucket-SFT", "78.9", "73.3"] in published
    assert len(sections) == 2


def test_each_language_block_uses_only_its_own_prompts():
    records = [{"id": "e1", "language": "en"}, {"id": "z1", "language": "zh"}, {"id": "z2", "language": "zh"}]
    runs = {("j", 0, "sft"): [scored("e1", 5), scored("z1", 1), scored("z2", 3)]}
    s = summarize(runs, records, [0], ["sft"], n_resamples=1000, seed=0)
    assert s["languages"]["en"]["by_judge"]["j"]["sft"]["overall"]["point"] == pytest.approx(100.0)
    assert s["languages"]["zh"]["by_judge"]["j"]["sft"]["overall"]["point"] == pytest.approx(25.0)
    assert s["languages"]["zh"]["n_prompts"] == 2
