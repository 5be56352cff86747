"""Threshold calibration at a fixed FPR, the Table 4 summary pooled over run seeds and its paired
intervals, the seed-averaged ROC curves."""

import json

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


VAL_IDS = [f"v{k}" for k in range(20)]
VAL_LANGS = ["en"] * 10 + ["zh"] * 10
TEST_IDS = [f"t{k}" for k in range(8)]
TEST_LANGS = ["en"] * 4 + ["zh"] * 4


def _seed_rows(sft, hdpo, human_test=(0, 1, 9, 2, 3, 4, 5, 6)):
    # validation: 10 human answers per language with scores 0..9 -> at 10 % FPR the threshold is 8
    rows = _rows("trained", "human", "val", list(range(10)) * 2, VAL_IDS, VAL_LANGS)
    rows += _rows("trained", "human", "test", list(human_test), TEST_IDS, TEST_LANGS)
    rows += _rows("trained", "sft", "test", sft, TEST_IDS, TEST_LANGS)
    rows += _rows("trained", "hdpo", "test", hdpo, TEST_IDS, TEST_LANGS)
    return rows


def _tiny_summary(rows_by_seed, aggregates_by_seed, n_resamples=200):
    return detector_summary(
        rows_by_seed,
        list(zip(TEST_IDS, TEST_LANGS)),
        list(zip(VAL_IDS, VAL_LANGS)),
        ["sft", "hdpo"],
        ["trained"],
        aggregates_by_seed,
        fprs=(0.1,),
        tpr_fprs=(0.25,),
        n_resamples=n_resamples,
        seed=0,
        comparisons=(("hdpo", "sft"),),
    )


def test_summary_by_hand_on_a_tiny_split():
    rows = _seed_rows(sft=[9, 9, 9, 1, 9, 0, 0, None], hdpo=[0] * 8)  # None: an empty response
    out, _ = _tiny_summary({"0": rows}, {"0": {"sft": {"en": 0.5, "zh": 0.5, "overall": 0.5}}})
    assert out["thresholds"]["0"]["trained"]["en"]["10%"] == 8.0
    m = out["metrics"]["trained"]
    assert m["human"]["en"]["ai_rate@10%"]["point"] == 0.25  # the 9 is above 8: realised FPR 1/4
    assert m["sft"]["en"]["ai_rate@10%"]["point"] == 0.75
    # the empty response is left out (it is no answer): the 9 of [9, 0, 0] -> 1/3
    assert m["sft"]["zh"]["ai_rate@10%"]["point"] == pytest.approx(1 / 3)
    assert m["sft"]["overall"]["ai_rate@10%"]["point"] == pytest.approx(4 / 7)
    # AUROC zh: [9, 0, 0] against human [3, 4, 5, 6]: the 9 beats all 4, the zeros none -> 4/12
    assert m["sft"]["zh"]["auroc"]["point"] == pytest.approx(1 / 3)
    assert out["no_answer"]["sft"] == {
        "en": {"k": 0, "n": 4},
        "zh": {"k": 1, "n": 4},
        "overall": {"k": 1, "n": 8},
    }
    # AUROC en: sft [9,9,9,1] vs human [0,1,9,2]: each 9 beats 3 and ties 1 -> 3.5/4; the 1 beats 1, ties 1 -> 1.5/4
    assert m["sft"]["en"]["auroc"]["point"] == pytest.approx((3 * 3.5 + 1.5) / 16)
    # Joint: harmonic mean of 0.5 and 1 - 0.75
    assert m["sft"]["en"]["joint"]["point"] == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    d = out["differences"]["trained"]["hdpo-sft"]["overall"]["ai_rate@10%"]
    assert d["point"] == pytest.approx(0 - 4 / 7) and d["low"] <= d["point"] <= d["high"]
    assert out["flags"]["0"]["trained"]["sft"] == {
        "t0": True,
        "t1": True,
        "t2": True,
        "t3": False,
        "t4": True,
        "t5": False,
        "t6": False,
        "t7": True,
    }


def test_a_system_without_answers_has_no_rate_and_no_auroc():
    """CoT without a final answer: every response empty. Its rate and AUROC are undefined (not
    'all flagged', AUROC 1), on every resample, and its count is kept."""
    rows = _seed_rows(sft=[None] * 8, hdpo=[9, 0, 9, 0, 9, 0, 9, 0])
    out, _ = _tiny_summary({"0": rows, "1": rows}, {s: {"hdpo": {"overall": 0.5}} for s in ("0", "1")})
    m = out["metrics"]["trained"]
    for key in ("ai_rate@10%", "auroc", "tpr@25%", "joint"):
        assert m["sft"]["overall"][key]["point"] != m["sft"]["overall"][key]["point"]  # NaN
        assert m["sft"]["overall"][key]["n_finite"] == 0
    assert out["no_answer"]["sft"]["overall"] == {"k": 16, "n": 16}
    assert m["hdpo"]["overall"]["ai_rate@10%"]["point"] == 0.5 and out["no_answer"]["hdpo"]["zh"]["k"] == 0
    from polyalign.report.table4 import detector_sections, joint_section

    out.update(
        white_box=False,
        model_pairs={d: {"first": "a", "second": "b"} for d in ("fast_detectgpt", "binoculars")},
    )
    rows = {r[0]: r for r in detector_sections(out)[0]["rows"]}
    assert rows["SFT"][1:] == ["no answer (8 of 8)"] * 4  # en: rate, AUROC, TPR, Joint
    assert rows["HDPO"][1].startswith("0.500")
    assert joint_section(out)["rows"][0][2:] == ["no answer (8 of 8)"] * 3  # SFT, en


def test_seeds_pool_to_their_mean_with_each_seed_kept():
    # seed 0: sft en flags 3 of 4 (rate 0.75); seed 1: 1 of 4 (0.25); hdpo never flagged
    rows = {
        "0": _seed_rows(sft=[9, 9, 9, 1, 9, 0, 0, 0], hdpo=[0] * 8),
        "1": _seed_rows(sft=[0, 0, 9, 1, 9, 0, 0, 0], hdpo=[0] * 8, human_test=(0, 1, 2, 3, 4, 5, 6, 7)),
    }
    aggregates = {"0": {"sft": {"en": 0.5}}, "1": {"sft": {"en": 0.6}}}
    out, reps = _tiny_summary(rows, aggregates)
    assert out["seeds"] == ["0", "1"]
    rate = out["metrics"]["trained"]["sft"]["en"]["ai_rate@10%"]
    assert rate["point"] == pytest.approx(0.5)
    assert [s["point"] for s in rate["seeds"]] == [0.75, 0.25]
    # human row: realised FPR 1/4 (seed 0, the 9) and 0 (seed 1) -> 0.125
    assert out["metrics"]["trained"]["human"]["en"]["ai_rate@10%"]["point"] == pytest.approx(0.125)
    # AUROC en, seed 0 as above (12/16); seed 1: sft [0,0,9,1] vs human [0,1,2,3]:
    # 0 -> 0.5 each, 9 -> 4, 1 -> 1 + 0.5 -> (0.5 + 0.5 + 4 + 1.5) / 16 = 6.5/16
    assert out["metrics"]["trained"]["sft"]["en"]["auroc"]["point"] == pytest.approx((12 + 6.5) / 32)
    # Joint per seed with that seed's Aggregate: H(0.5, 0.25) = 1/3, H(0.6, 0.75) = 2/3
    joint = out["metrics"]["trained"]["sft"]["en"]["joint"]
    assert [s["point"] for s in joint["seeds"]] == pytest.approx([1 / 3, 2 / 3])
    assert joint["point"] == pytest.approx(0.5)
    assert reps["per_seed"]["sft"]["en"]["trained"].shape == (2, 200) and reps["n_prompts"]["en"] == 4


def test_replicates_are_table2_draws_applied_to_each_seed():
    """Each seed's replicate r = its rate on the prompts W[r] of evaluation.pooled.draw_counts for
    the same bootstrap seed; the pooled interval is Table 2's two-level t interval of them."""
    from polyalign.evaluation.pooled import draw_counts, interval_summary

    sft = {"0": [9, 9, 9, 1, 9, 0, 0, 0], "1": [0, 0, 9, 1, 9, 9, 0, 9]}
    rows = {s: _seed_rows(sft=v, hdpo=[0] * 8) for s, v in sft.items()}
    out, reps = _tiny_summary(rows, {"0": {}, "1": {}}, n_resamples=50)
    W = draw_counts(TEST_LANGS, 50, 0)
    flags = {s: np.array(v) > 8 for s, v in sft.items()}
    en = np.array(TEST_LANGS) == "en"
    by_hand = np.stack([(W[:, en] * flags[s][en]).sum(axis=1) / en.sum() for s in ("0", "1")])
    np.testing.assert_allclose(reps["per_seed"]["sft"]["en"]["trained"], by_hand)
    rate = out["metrics"]["trained"]["sft"]["en"]["ai_rate@10%"]
    point = (0.75 + 0.25) / 2  # en: 3 of 4 flagged in seed 0, 1 of 4 in seed 1
    assert rate["point"] == pytest.approx(point)
    expected = interval_summary([0.75, 0.25], by_hand, 0.05, int(en.sum()), (0.0, 1.0))
    assert rate["low"] == pytest.approx(expected["low"]) and rate["high"] == pytest.approx(expected["high"])
    assert rate["low"] <= point <= rate["high"]


def test_differences_are_paired_across_systems():
    """Two systems with identical scores in every seed differ by exactly 0 in every replicate:
    the seeds and prompts drawn are the same for both (unpaired draws would scatter around 0)."""
    sft = {"0": [9, 9, 9, 1, 9, 0, 0, 0], "1": [0, 0, 9, 1, 9, 9, 0, 9]}
    rows = {s: _seed_rows(sft=v, hdpo=v) for s, v in sft.items()}
    out, reps = _tiny_summary(rows, {"0": {}, "1": {}})
    for scope in ("en", "zh", "overall"):
        d = out["differences"]["trained"]["hdpo-sft"][scope]["ai_rate@10%"]
        assert (d["point"], d["low"], d["high"]) == (0.0, 0.0, 0.0)
        assert all((s["low"], s["high"]) == (0.0, 0.0) for s in d["seeds"])
        rate = out["metrics"]["trained"]["sft"][scope]["ai_rate@10%"]
        assert rate["high"] > rate["low"]  # each system's own interval is not degenerate
    np.testing.assert_array_equal(
        reps["per_seed"]["hdpo"]["overall"]["trained"], reps["per_seed"]["sft"]["overall"]["trained"]
    )


def test_identical_seeds_pool_to_the_single_seed_numbers():
    rows = _seed_rows(sft=[9, 9, 9, 1, 9, 0, 0, 0], hdpo=[0] * 8)
    one, _ = _tiny_summary({"0": rows}, {"0": {}})
    two, _ = _tiny_summary({"0": rows, "1": rows}, {"0": {}, "1": {}})
    a = one["metrics"]["trained"]["sft"]["overall"]["auroc"]
    b = two["metrics"]["trained"]["sft"]["overall"]["auroc"]
    assert a["point"] == b["point"] == b["seeds"][0]["point"] == b["seeds"][1]["point"]


def test_vertical_average_of_roc_curves_by_hand():
    from polyalign.detectors.summary import vertical_average

    perfect = (np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0]))
    all_tied = (np.array([0.0, 1.0]), np.array([0.0, 1.0]))  # one threshold: the diagonal
    grid = np.array([0.0, 0.5, 1.0])
    np.testing.assert_allclose(vertical_average([perfect, all_tied], grid), [0.5, 0.75, 1.0])


def test_summary_fails_loudly_on_a_missing_score():
    rows = _rows("trained", "human", "val", [0.0], ["v0"], ["en"])
    rows += _rows("trained", "human", "test", [0.0], ["t0"], ["en"])
    with pytest.raises(Exception, match="sft has no test score"):
        detector_summary(
            {"0": rows}, [("t0", "en")], [("v0", "en")], ["sft"], ["trained"], {"0": {}}, n_resamples=5
        )


def test_table4_renders_every_detector_the_human_row_and_the_setting(tmp_path):
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
    for r in rows:  # an empty human answer (zh): its prompt is left out, and the caption says so
        if r["system"] == "human" and r["id"] == "t35":
            r["score"] = None
    aggregates = {s: {"en": 0.4, "zh": 0.4, "overall": 0.4} for s in ("sft", "dpo", "hdpo")}
    summary, _ = detector_summary(
        {"0": rows, "1": rows},
        test,
        val,
        ["sft", "dpo", "hdpo"],
        ["fast_detectgpt", "binoculars", "trained"],
        {"0": aggregates, "1": aggregates},
        n_resamples=20,
    )
    summary.pop("flags")
    summary["white_box"] = True
    summary["ancestor_models"] = ["base", "sft"]
    summary["model_pairs"] = {
        "fast_detectgpt": {"first": "base", "second": "sft"},
        "binoculars": {"first": "base", "second": "sft"},
    }
    summary["zh_by_answer_language"] = {
        "trained": {
            "hdpo": {
                "in_language": {"rate": 0.11, "k": 16, "n": 146},
                "other": {"rate": 0.0, "k": 0, "n": 76},
            }
        }
    }
    report = {"held_out": {"accuracy": 0.8, "balanced_accuracy": 0.79, "auroc": 0.88, "n": 100}}
    write_table4(summary, {"0": report, "1": report}, tmp_path / "t.md", tmp_path / "t.tex")
    md = (tmp_path / "t.md").read_text()
    for text in [
        "Fast-DetectGPT (en)",
        "Binoculars (zh)",
        "Trained (LR on φ) (overall)",
        "Confounded setting: detector models base, sft are compared systems' own models",
        "zh AI rates by the answer's language",
        "0.110 (16/146)",
        "0.000 (0/76)",
        "Human (test; rate = realised FPR)",
        "HDPO - SFT",
        "rate @ published low_fpr",
        "seed 1: accuracy 0.800",
        "not available to this project",
        "Table 4 per run seed (overall)",
        "seed 0: AI rate; AUROC",
        "two-level t interval over 2 run seed(s)",
        "scope zh (9 test prompts; 1 without a scored human answer left out)",
        "scope overall (39 test prompts; 1 without a scored human answer left out)",
        "scope en (30 test prompts)",
    ]:
        assert text in md, text
    assert "\\begin{table}" in (tmp_path / "t.tex").read_text()


def test_empty_human_answers_are_left_out_and_counted():
    """SQuAD v2 keeps unanswerable questions with an empty human answer (score None). Their
    prompts drop out of calibration (val) and of every test metric for every system (paired), and
    the summary counts them; the numbers equal a summary run without those prompts at all."""
    rows = _seed_rows(sft=[9, 9, 9, 1, 9, 0, 0, 0], hdpo=[0] * 8, human_test=(0, None, 9, 2, 3, 4, 5, 6))
    for r in rows:  # v0 (en, score 0) and v19 (zh, score 9) have empty human answers
        if r["split"] == "val" and r["id"] in ("v0", "v19"):
            r["score"] = None
    out, _ = _tiny_summary({"0": rows}, {"0": {"sft": {"en": 0.5}}})
    assert out["excluded_prompts"]["val"] == {"en": 1, "zh": 1}
    assert out["excluded_prompts"]["test"] == {"en": 1}
    assert out["n_prompts"] == {"en": 3, "zh": 4, "overall": 7}
    # en val scores 1..9: floor(0.1 * 9) = 0 may be flagged -> threshold 9; zh val 0..8 -> 8
    assert out["thresholds"]["0"]["trained"] == {"en": {"10%": 9.0}, "zh": {"10%": 8.0}}
    m = out["metrics"]["trained"]
    assert m["human"]["en"]["ai_rate@10%"]["point"] == 0.0  # the 9 is not above 9; t1 is not counted
    assert m["sft"]["en"]["ai_rate@10%"]["point"] == 0.0  # sft t0, t2, t3 = 9, 9, 1: none above 9
    # AUROC en: sft [9, 9, 1] vs human [0, 9, 2]: 9 -> 2 + 0.5 each, 1 -> 1 -> 6/9
    assert m["sft"]["en"]["auroc"]["point"] == pytest.approx(6 / 9)
    assert "t1" not in out["flags"]["0"]["trained"]["sft"]
    # the same as never having had those prompts
    kept_test = [(i, lg) for i, lg in zip(TEST_IDS, TEST_LANGS) if i != "t1"]
    kept_val = [(i, lg) for i, lg in zip(VAL_IDS, VAL_LANGS) if i not in ("v0", "v19")]
    alone, _ = detector_summary(
        {"0": rows},
        kept_test,
        kept_val,
        ["sft", "hdpo"],
        ["trained"],
        {"0": {"sft": {"en": 0.5}}},
        fprs=(0.1,),
        tpr_fprs=(0.25,),
        n_resamples=200,
        seed=0,
        comparisons=(("hdpo", "sft"),),
    )
    assert alone["excluded_prompts"] == {**out["excluded_prompts"], "val": {}, "test": {}}
    same = json.dumps  # NaN (the human row's Joint) compares equal as text only
    assert same(alone["metrics"]) == same(out["metrics"]) and alone["thresholds"] == out["thresholds"]


def test_a_language_without_scored_validation_answers_fails_naming_it():
    rows = _seed_rows(sft=[0] * 8, hdpo=[0] * 8)
    for r in rows:
        if r["split"] == "val" and r["language"] == "zh":
            r["score"] = None
    with pytest.raises(Exception, match=r"no scored validation human answer in language\(s\) \['zh'\]"):
        _tiny_summary({"0": rows}, {"0": {}})


def test_roc_curves_leave_out_prompts_without_a_human_score():
    from polyalign.detectors.summary import roc_curves

    rows = _seed_rows(sft=[9, 9, 9, 1, 9, 0, 0, 0], hdpo=[0] * 8, human_test=(0, None, 9, 2, 3, 4, 5, 6))
    curves = roc_curves({"0": rows}, list(zip(TEST_IDS, TEST_LANGS)), ["sft"], ["trained"])
    assert curves["trained"]["en"]["sft"][2] == pytest.approx(6 / 9)  # not 9.5/16 with t1 on top


def test_table4_names_the_independent_detector_pair():
    from polyalign.report.table4 import _setting

    pairs = {"fast_detectgpt": {"first": "detector_base", "second": "detector_sft"}}
    pairs["binoculars"] = pairs["fast_detectgpt"]
    text = _setting({"model_pairs": pairs, "white_box": True, "ancestor_models": []})
    assert text.startswith("Independent detectors: detector_base is a second BaseLM")
