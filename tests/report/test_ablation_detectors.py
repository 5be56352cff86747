"""The ablation table's detector column (polyalign.report.ablation_detectors): the parent's AI
rate minus the variant's, decided with lower = better."""

import pytest

from polyalign.report.ablation_detectors import detector_ablation_rows

VAL = [(f"v{k}", "en" if k < 10 else "zh") for k in range(20)]
TEST = [(f"t{k}", "en" if k < 4 else "zh") for k in range(8)]


def _rows(system, split, scores, prompts):
    return [
        {"detector": "trained", "system": system, "split": split, "id": i, "language": lg, "score": s}
        for (i, lg), s in zip(prompts, scores)
    ]


def _seed(parent, variant):
    # validation humans score 0..9 per language: at 10 % FPR a test score above 8 is flagged
    rows = _rows("human", "val", list(range(10)) * 2, VAL)
    rows += _rows("human", "test", [0, 1, 2, 3, 4, 5, 6, 7], TEST)
    return rows + _rows("hdpo", "test", parent, TEST) + _rows("hdpo_x", "test", variant, TEST)


def rows_for(parent, variant):
    by_seed = {"0": _seed(parent, variant), "1": _seed(parent, variant)}
    return detector_ablation_rows(
        by_seed, TEST, VAL, {"hdpo_x": "hdpo"}, ["trained"], fprs=[0.1], n_resamples=200, seed=0, alpha=0.05
    )


def test_a_parent_flagged_on_every_prompt_against_an_unflagged_variant_hurts():
    rows = {r["scope"]: r for r in rows_for([9.5] * 8, [0.0] * 8)}
    assert set(rows) == {"en", "zh"}
    en = rows["en"]
    assert (en["variant"], en["parent"], en["metric"], en["floor"]) == ("hdpo_x", "hdpo", "ai_rate", None)
    # parent 4 of 4 flagged, variant 0 of 4: parent - variant = 1, and lower is better
    assert en["diff"]["point"] == pytest.approx(1.0)
    assert en["verdict"] == "hurts"


def test_a_variant_equal_to_its_parent_differs_by_exactly_zero():
    scores = [9.5, 0.0, 9.5, 0.0, 0.0, 9.5, 0.0, 0.0]
    for row in rows_for(scores, scores):
        assert row["diff"]["point"] == 0.0 and row["verdict"] == "no detectable effect"


def test_the_parent_flagged_less_helps():
    rows = {r["scope"]: r for r in rows_for([0.0] * 8, [9.5] * 8)}
    assert rows["zh"]["diff"]["point"] == pytest.approx(-1.0) and rows["zh"]["verdict"] == "helps"
