"""Threshold calibration at a fixed FPR, the Table 4 summary and its paired intervals."""

import numpy as np
import pytest

from polyalign.detectors.summary import auroc, detector_summary
from polyalign.metrics.detectors import (
    detector_auroc,
    predicted_ai_rate,
    threshold_at_fpr,
    tpr_at_fpr,
)


def test_threshold_flags_at_most_the_target_share_of_humans():
    human = np.arange(1.0, 21.0)  # 20 answers, scores 1..20
    t = threshold_at_fpr(human, 0.05)  # floor(0.05 * 20) = 1 may be flagged: the 2nd largest, 19
    assert t == 19.0 and predicted_ai_rate(human, t) == 0.05
    assert threshold_at_fpr(human, 0.01) == 20.0 and predicted_ai_rate(human, 20.0) == 0.0
    # lower-is-AI (Binoculars): the 2nd smallest, scores below it are flagged
    assert threshold_at_fpr(human, 0.05, higher_is_ai=False) == 2.0
    assert predicted_ai_rate(human, 2.0, higher_is_ai=False) == 0.05
    rng = np.random.default_rng(0)
    for n in (7, 100, 333):
        h = rng.normal(size=n)
        for fpr in (0.01, 0.05, 0.1):
            assert predicted_ai_rate(h, threshold_at_fpr(h, fpr)) <= fpr
    assert tpr_at_fpr([19.5, 25.0, 3.0, 30.0], human, 0.05) == 0.75


def test_fast_auroc_matches_the_rank_form_with_ties():
    rng = np.random.default_rng(1)
    pos, neg = rng.integers(0, 5, 40).astype(float), rng.integers(0, 5, 30).astype(float)
    assert auroc(pos, neg) == pytest.approx(detector_auroc(pos, neg))
    assert auroc(np.array([np.inf]), np.array([1.0, 2.0])) == 1.0


def _rows(detector, system, split, scores, ids, langs):
    return [
        {"detector": detector, "system": system, "split": split, "id": i, "language": lg, "score": s}
        for i, lg, s in zip(ids, langs, scores)
    ]


def test_summary_by_hand_on_a_tiny_split():
    # validation: 10 human answers per language with scores 0..9 -> at 10 % FPR the threshold is 8
    val_ids = [f"v{k}" for k in range(20)]
    val_langs = ["en"] * 10 + ["zh"] * 10
    test_ids = [f"t{k}" for k in range(8)]
    test_langs = ["en"] * 4 + ["zh"] * 4
    rows = _rows("trained", "human", "val", list(range(10)) * 2, val_ids, val_langs)
    rows += _rows("trained", "human", "test", [0, 1, 9, 2, 3, 4, 5, 6], test_ids, test_langs)
    rows += _rows("trained", "sft", "test", [9, 9, 9, 1, 9, 0, 0, None], test_ids, test_langs)  # None: empty
    rows += _rows("trained", "hdpo", "test", [0, 0, 0, 0, 0, 0, 0, 0], test_ids, test_langs)
    out = detector_summary(
        rows,
        list(zip(test_ids, test_langs)),
        list(zip(val_ids, val_langs)),
        ["sft", "hdpo"],
        ["trained"],
        {"sft": {"en": 0.5, "zh": 0.5, "overall": 0.5}},
        fprs=(0.1,),
        tpr_fprs=(0.25,),
        n_resamples=200,
        seed=0,
        comparisons=(("hdpo", "sft"),),
    )
    assert out["thresholds"]["trained"]["en"]["10%"] == 8.0
    m = out["metrics"]["trained"]
    assert m["human"]["en"]["ai_rate@10%"]["point"] == 0.25  # the 9 is above 8: realised FPR 1/4
    assert m["sft"]["en"]["ai_rate@10%"]["point"] == 0.75
    assert m["sft"]["zh"]["ai_rate@10%"]["point"] == 0.5  # 9 and the empty response
    assert m["sft"]["overall"]["ai_rate@10%"]["point"] == 5 / 8
    # AUROC en: sft [9,9,9,1] vs human [0,1,9,2]: each 9 beats 3 and ties 1 -> 3.5/4; the 1 beats 1, ties 1 -> 1.5/4
    assert m["sft"]["en"]["auroc"]["point"] == pytest.approx((3 * 3.5 + 1.5) / 16)
    # Joint: harmonic mean of 0.5 and 1 - 0.75
    assert m["sft"]["en"]["joint"]["point"] == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    d = out["differences"]["trained"]["hdpo-sft"]["overall"]["ai_rate@10%"]
    assert d["point"] == pytest.approx(0 - 5 / 8) and d["low"] <= d["point"] <= d["high"]
    assert out["flags"]["trained"]["sft"] == {
        "t0": True,
        "t1": True,
        "t2": True,
        "t3": False,
        "t4": True,
        "t5": False,
        "t6": False,
        "t7": True,
    }


def test_summary_fails_loudly_on_a_missing_score():
    rows = _rows("trained", "human", "val", [0.0], ["v0"], ["en"])
    rows += _rows("trained", "human", "test", [0.0], ["t0"], ["en"])
    with pytest.raises(Exception, match="sft has no test score"):
        detector_summary(rows, [("t0", "en")], [("v0", "en")], ["sft"], ["trained"], {}, n_resamples=5)


def test_table4_renders_every_detector_the_human_row_and_the_white_box_label(tmp_path):
    from polyalign.report.table4 import write_table4

    rng = np.random.default_rng(3)
    test = [(f"t{k}", "en" if k < 30 else "zh") for k in range(40)]
    val = [(f"v{k}", "en" if k < 30 else "zh") for k in range(40)]
    rows = []
    for det in ("fast_detectgpt", "binoculars", "trained"):
        for g, split, ids in [
            ("human", "val", val),
            ("human", "test", test),
            ("sft", "test", test),
            ("dpo", "test", test),
            ("hdpo", "test", test),
        ]:
            rows += [
                {**r, "p_ai": 0.5 if det == "fast_detectgpt" else None}
                for r in _rows(
                    det,
                    g,
                    split,
                    rng.normal(size=len(ids)).tolist(),
                    [i for i, _ in ids],
                    [lg for _, lg in ids],
                )
            ]
    summary = detector_summary(
        rows,
        test,
        val,
        ["sft", "dpo", "hdpo"],
        ["fast_detectgpt", "binoculars", "trained"],
        {s: {"en": 0.4, "zh": 0.4, "overall": 0.4} for s in ("sft", "dpo", "hdpo")},
        n_resamples=20,
    )
    summary.pop("flags")
    summary["white_box"] = True
    summary["model_pairs"] = {
        "fast_detectgpt": {"first": "base", "second": "sft"},
        "binoculars": {"first": "base", "second": "sft"},
    }
    report = {"held_out": {"accuracy": 0.8, "balanced_accuracy": 0.79, "auroc": 0.88, "n": 100}}
    write_table4(summary, report, tmp_path / "t.md", tmp_path / "t.tex")
    md = (tmp_path / "t.md").read_text()
    for text in [
        "Fast-DetectGPT (en)",
        "Binoculars (zh)",
        "Trained (LR on φ) (overall)",
        "White-box setting",
        "Human (test; rate = realised FPR)",
        "HDPO - SFT",
        "rate @ published low_fpr",
        "accuracy 0.800",
        "not available to this project",
    ]:
        assert text in md, text
    assert "\\begin{table}" in (tmp_path / "t.tex").read_text()
