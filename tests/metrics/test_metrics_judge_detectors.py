"""LLM-judge composites and detector summaries (pure functions, hand-computed cases)."""

import numpy as np
import pytest

from polyalign.metrics.detectors import detection_metrics, detector_auroc, joint_score, predicted_ai_rate
from polyalign.metrics.judge import (
    COMPOSITE_WEIGHTS,
    DIMENSIONS,
    judge_composites,
    mean_judge_report,
    score_to_100,
)


def test_score_mapping():
    assert score_to_100(1) == 0.0 and score_to_100(3) == 50.0 and score_to_100(5) == 100.0
    assert score_to_100(4.2) == pytest.approx(80.0)
    with pytest.raises(ValueError):
        score_to_100([0, 3])


def test_weights_sum_to_one():
    for weights in COMPOSITE_WEIGHTS.values():
        assert sum(weights.values()) == pytest.approx(1.0)
        assert set(weights) <= set(DIMENSIONS)


def test_composites_hand_case():
    scores = {d: 1 for d in DIMENSIONS}
    scores["task_success"] = 5
    comp = judge_composites(scores)["composites"]
    # only task_success is 100: overall .20*100, utility .35*100, the others have no task weight
    assert comp == pytest.approx(
        {"overall": 20.0, "utility": 35.0, "conditional_naturalness": 0.0, "distribution_faithfulness": 0.0}
    )
    scores = {d: 1 for d in DIMENSIONS}
    scores["reference_alignment"] = 3  # 50 points
    comp = judge_composites(scores)["composites"]
    # .10*50, .15*50, .15*50, .20*50
    assert comp == pytest.approx(
        {"overall": 5.0, "utility": 7.5, "conditional_naturalness": 7.5, "distribution_faithfulness": 10.0}
    )


def test_composites_on_arrays_and_validation():
    scores = {d: np.array([1, 3, 5]) for d in DIMENSIONS}
    comp = judge_composites(scores)["composites"]
    for values in comp.values():
        assert values == pytest.approx([0.0, 50.0, 100.0])
    report = mean_judge_report(scores)
    assert report["n"] == 3 and report["composites"]["overall"] == pytest.approx(50.0)
    with pytest.raises(ValueError, match="missing"):
        judge_composites({"task_success": 3})


def test_predicted_ai_rate_both_directions():
    s = [0.1, 0.5, 0.9]
    assert predicted_ai_rate(s, 0.5) == pytest.approx(1 / 3)  # 0.9 > 0.5
    assert predicted_ai_rate(s, 0.5, higher_is_ai=False) == pytest.approx(1 / 3)  # 0.1 < 0.5
    assert np.isnan(predicted_ai_rate([], 0.5))


def test_auroc_hand_case():
    # pairs (3,1)=1 (3,2)=1 (2,1)=1 (2,2)=.5 -> 3.5 / 4
    assert detector_auroc([3, 2], [1, 2]) == pytest.approx(0.875)
    assert detector_auroc([3, 2], [1, 2], higher_is_ai=False) == pytest.approx(0.125)
    assert detector_auroc([1, 1], [1, 1]) == pytest.approx(0.5)


def test_joint():
    # harmonic mean of .6 and 1 - .2: 2 * .6 * .8 / 1.4 = 0.685714
    assert joint_score(0.6, 0.2) == pytest.approx(0.96 / 1.4)
    assert joint_score(0.6, 1.0) == 0.0
    assert np.isnan(joint_score(float("nan"), 0.2))
    out = detection_metrics([3, 2], [1, 2], threshold=1.5, aggregate=0.6)
    assert out["predicted_ai_rate"] == 1.0 and out["human_predicted_ai_rate"] == 0.5
    assert out["joint"] == 0.0 and out["auroc"] == pytest.approx(0.875)
