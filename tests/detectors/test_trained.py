"""The trained detector: train split only (no validation/test answer reaches its fit), held-out report."""

import numpy as np
import pytest

from polyalign.detectors.trained import (
    LeakageError,
    detector_logits,
    holdout_mask,
    train_detector,
)
from polyalign.features.store import FeatureTable


def table(ids, X, langs=None, valid=None):
    n = len(ids)
    return FeatureTable(
        np.array(ids, dtype=str),
        ["a", "b"],
        np.asarray(X, float),
        np.ones(n, bool) if valid is None else np.array(valid),
        np.array(["en|x"] * n),
        np.array(langs or ["en"] * n),
        np.zeros(n, np.int64),
    )


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"train-{k}" for k in range(n)]
    human = table(ids, rng.normal(0.0, 1.0, (n, 2)))
    model = table(ids, rng.normal([2.0, 0.0], 1.0, (n, 2)))
    return ids, human, model


def test_a_test_split_answer_cannot_reach_the_training_data():
    ids, human, model = _data()
    leaked = table(ids[:5] + ["test-17"], np.zeros((6, 2)))
    with pytest.raises(LeakageError, match="test-17"):
        train_detector(human, {"sft": model, "bucket_sft": leaked}, ids, seed=42)
    with pytest.raises(LeakageError):
        train_detector(table(["val-3"], [[0.0, 0.0]]), {"sft": model}, ids, seed=42)


def test_fit_and_held_out_report_on_separable_features():
    ids, human, model = _data()
    human.X[::7, 1] = np.nan  # out-of-scope features in the training data are tolerated
    fitted, report = train_detector(human, {"sft": model}, ids, seed=42)
    held = set(report["held_out_ids"])
    assert held and not held & set(report["training_ids"])  # a prompt is on one side only
    assert set(report["training_ids"]) | held == set(ids)
    assert 0.1 < len(held) / len(ids) < 0.3
    # the features differ by 2 standard deviations on one axis: the Bayes accuracy is Phi(1) = 0.84
    assert 0.75 < report["held_out"]["accuracy"] < 0.93 and report["held_out"]["auroc"] > 0.85
    assert fitted["coef"][0] > 0 and abs(fitted["coef"][1]) < abs(fitted["coef"][0]) / 3
    scores = detector_logits(
        fitted,
        table(
            ["x", "y", "z", "w"],
            [[3.0, 0.0], [-1.0, 0.0], [0.0, 0.0], [3.0, np.nan]],
            valid=[True, True, False, True],
        ),
    )
    assert scores[0] > 0 > scores[1] and np.isnan(scores[2])
    # an out-of-scope feature (NaN) counts as the fitting mean: w scores like x up to the b term
    assert scores[3] > 0


def test_holdout_is_a_deterministic_function_of_the_prompt_id():
    ids = [f"p{k}" for k in range(50)]
    assert (holdout_mask(ids, 0.3, 1) == holdout_mask(list(reversed(ids)), 0.3, 1)[::-1]).all()
