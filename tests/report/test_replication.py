"""Claim decisions from hand-made intervals, the published numbers and the report text."""

import numpy as np
import pytest

from polyalign.evaluation.pooled import minimum_detectable_effect
from polyalign.report.judge_human import human_section, judge_section
from polyalign.report.published import (
    load_published,
    published_aggregate,
    published_distributional,
    system_label,
)
from polyalign.report.replication import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_EVALUATED,
    SUPPORTED,
    combine_verdicts,
    decide,
    evaluate_claims,
    replication_markdown,
)

from .fake_summary import SEEDS, SYSTEMS, replicates, summary


def d(low, high):
    return {"point": (low + high) / 2, "low": low, "high": high}


@pytest.mark.parametrize(
    "diff, metric, kind, expected",
    [
        (d(0.01, 0.05), "aggregate", "superior", SUPPORTED),
        (d(-0.05, -0.01), "aggregate", "superior", CONTRADICTED),
        (d(-0.01, 0.02), "aggregate", "superior", INCONCLUSIVE),
        (d(0.0, 0.02), "aggregate", "superior", INCONCLUSIVE),  # touching 0 is not excluding it
        (d(-0.3, -0.1), "bng_macro", "superior", SUPPORTED),  # lower is better
        (d(0.1, 0.3), "bng_macro", "superior", CONTRADICTED),
        (d(-0.015, 0.01), "qa_f1", "noninferior", SUPPORTED),  # margin 0.02
        (d(-0.05, -0.03), "qa_f1", "noninferior", CONTRADICTED),
        (d(-0.03, 0.01), "qa_f1", "noninferior", INCONCLUSIVE),
        ({"point": 0.1, "low": None, "high": None}, "nuf", "superior", INCONCLUSIVE),
    ],
)
def test_decide(diff, metric, kind, expected):
    assert decide(diff, metric, kind, margin=0.02) == expected


def test_contradiction_needs_the_widened_interval():
    """Several comparisons per claim: 'contradicted' is read on the Bonferroni-widened
    interval, 'supported' on the nominal one."""
    assert decide(d(-0.05, -0.01), "aggregate", wide=d(-0.06, 0.001)) == INCONCLUSIVE
    assert decide(d(-0.05, -0.01), "aggregate", wide=d(-0.06, -0.001)) == CONTRADICTED
    assert decide(d(0.01, 0.05), "aggregate", wide=d(-0.01, 0.06)) == SUPPORTED
    assert decide(d(0.1, 0.3), "bng_macro", wide=d(-0.01, 0.4)) == INCONCLUSIVE


def test_combine_verdicts():
    assert combine_verdicts([SUPPORTED, SUPPORTED]) == SUPPORTED
    assert combine_verdicts([SUPPORTED, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine_verdicts([SUPPORTED, CONTRADICTED]) == CONTRADICTED
    assert combine_verdicts([NOT_EVALUATED, NOT_EVALUATED]) == NOT_EVALUATED
    assert combine_verdicts([SUPPORTED, NOT_EVALUATED]) == INCONCLUSIVE


def _replicates():
    """Replicates built so that: claim 1 supported (en and zh), claim 2 contradicted (DPO has
    the lower BNG), claim 3 inconclusive for seed 0, supported for seed 1 and pooled, claim 4
    supported. Seed 1 repeats seed 0 except HDPO's NUF."""
    reps = {
        "sft": {
            "bng_macro": [1.0, 1.1, 0.9, 1.0],
            "aggregate": [0.30, 0.31, 0.29, 0.30],
            "g_mauve": [0.8, 0.8, 0.8, 0.8],
            "qa_f1": [0.40, 0.41, 0.39, 0.40],
        },
        "bucket_sft": {
            "bng_macro": [0.5, 0.6, 0.4, 0.5],
            "aggregate": [0.40, 0.41, 0.39, 0.40],
            "nuf": [0.50, 0.60, 0.40, 0.55],
        },
        "dpo": {
            "bng_macro": [0.2, 0.3, 0.1, 0.2],
            "g_mauve": [0.7, 0.7, 0.7, 0.7],
            "aggregate": [0.20, 0.21, 0.19, 0.20],
        },
        "hdpo": {"nuf": [0.55, 0.50, 0.50, 0.52], "qa_f1": [0.40, 0.40, 0.40, 0.41]},
    }
    per_seed = {s: {m: [v, v] for m, v in reps.get(s, {"qa_f1": [0.1] * 4}).items()} for s in SYSTEMS}
    per_seed["hdpo"]["nuf"] = [reps["hdpo"]["nuf"], [0.65, 0.70, 0.62, 0.66]]
    return replicates(per_seed)


def _summary_with_points():
    s = summary()
    points = {
        "sft": {"bng_macro": 1.0, "aggregate": 0.30, "g_mauve": 0.8, "qa_f1": 0.40},
        "bucket_sft": {"bng_macro": 0.5, "aggregate": 0.40, "nuf": 0.5},
        "dpo": {"bng_macro": 0.2, "g_mauve": 0.7, "aggregate": 0.20},
        "hdpo": {"nuf": (0.52, 0.66), "qa_f1": 0.40},
    }
    for system, metrics in points.items():
        for lang in ("en", "zh"):
            for m, v in metrics.items():
                per_seed = v if isinstance(v, tuple) else (v, v)
                h = s["headline"][system][lang][m]
                h["point"] = sum(per_seed) / 2
                for seed, p in zip(SEEDS, per_seed):
                    h["seeds"][seed]["point"] = p
    return s


def test_evaluate_claims():
    published = load_published()
    results = evaluate_claims(
        _summary_with_points(), _replicates(), published["claims"]["list"], relative_margin=0.1
    )
    verdicts = {r["id"]: r["verdict"] for r in results}
    # claim 3 pooled: the two seeds' NUF differ (0.52, 0.66): the seed component with one degree
    # of freedom (t_1 = 12.7) leaves the pooled difference 0.09 inconclusive
    assert verdicts == {1: SUPPORTED, 2: CONTRADICTED, 3: INCONCLUSIVE, 4: SUPPORTED, 5: NOT_EVALUATED}
    claim1 = results[0]
    bng_en = next(t for t in claim1["tests"] if t["metric"] == "bng_macro" and t["language"] == "en")
    assert bng_en["diff"]["point"] == pytest.approx(-0.5)  # Bucket-SFT minus SFT
    assert results[4]["note"].startswith("not evaluated: no AI-text detector")
    assert results[1]["per_language"] == {"en": CONTRADICTED, "zh": CONTRADICTED}
    # per seed: seed 0 (diffs 0.05, -0.1, 0.1, -0.03) is inconclusive, seed 1 supported
    assert results[2]["per_seed"] == {"0": INCONCLUSIVE, "1": SUPPORTED}
    # both seeds' points favour HDPO on NUF (0.52 and 0.66 against 0.5), whatever their tests say
    assert results[2]["seeds_in_direction"] == 2 and results[0]["seeds_in_direction"] == 2
    nuf = results[2]["tests"][0]
    assert nuf["verdict"] == INCONCLUSIVE and nuf["mde"] == pytest.approx(
        minimum_detectable_effect(nuf["diff"])
    )
    assert nuf["mde"] > abs(nuf["diff"]["point"])  # the effect seen is below what 2 seeds can detect
    assert results[0]["tests"][0]["mde"] is None  # supported: no MDE
    # claim 4: margin = 10% of SFT's QA-F1 (0.40)
    qa = next(t for t in results[3]["tests"] if t["language"] == "en")
    assert qa["margin"] == pytest.approx(0.04) and qa["verdict"] == SUPPORTED


def test_relative_margin_decides_noninferiority():
    """HDPO 0.02 below SFT (replicates +-0.004, se 0.0033 over 63 prompts, seeds identical):
    within a 10% margin of 0.40 (0.04), outside a 1% margin (0.004) -> supported vs contradicted."""
    per_seed = {s: {"qa_f1": [[0.4] * 4] * 2} for s in SYSTEMS}
    per_seed["hdpo"] = {"qa_f1": [[0.376, 0.38, 0.384, 0.38]] * 2}
    s = summary()
    for system, value in (("sft", 0.40), ("hdpo", 0.38)):
        for lang in ("en", "zh"):
            h = s["headline"][system][lang]["qa_f1"]
            h["point"] = value
            for seed in SEEDS:
                h["seeds"][seed]["point"] = value
    claim4 = [c for c in load_published()["claims"]["list"] if c["id"] == 4]
    wide = evaluate_claims(s, replicates(per_seed), claim4, relative_margin=0.1)[0]
    narrow = evaluate_claims(s, replicates(per_seed), claim4, relative_margin=0.01)[0]
    assert wide["verdict"] == SUPPORTED and narrow["verdict"] == CONTRADICTED
    assert narrow["per_seed"] == {"0": CONTRADICTED, "1": CONTRADICTED} and narrow["seeds_in_direction"] == 0


def _detector_summary(dpo_seed1):
    """Table 4's summary over run seeds 0 and 1 (one detector): HDPO never flagged, SFT always,
    DPO on every other prompt in seed 0 and as given in seed 1."""
    from polyalign.detectors.summary import detector_summary

    ids = [f"q{i}" for i in range(40)]
    langs = ["en" if k < 20 else "zh" for k in range(40)]
    val = [(f"v{k}", lg) for k, lg in enumerate(langs)]

    def rows(system, split, scores, where):
        return [
            {"detector": "trained", "system": system, "split": split, "id": i, "language": lg, "score": x}
            for (i, lg), x in zip(where, scores)
        ]

    def seed_rows(dpo):
        out = rows("human", "val", list(range(20)) * 2, val)  # threshold at 5 % FPR: 18
        out += rows("human", "test", [0.0] * 40, list(zip(ids, langs)))
        out += rows("hdpo", "test", [0.0] * 40, list(zip(ids, langs)))
        out += rows("bucket_sft", "test", [0.0] * 40, list(zip(ids, langs)))
        out += rows("sft", "test", [30.0] * 40, list(zip(ids, langs)))
        return out + rows("dpo", "test", dpo, list(zip(ids, langs)))

    alternate = [30.0 if k % 2 == 0 else 0.0 for k in range(40)]
    return detector_summary(
        {"0": seed_rows(alternate), "1": seed_rows(dpo_seed1)},
        list(zip(ids, langs)),
        val,
        ["sft", "bucket_sft", "dpo", "hdpo"],
        ["trained"],
        {
            seed: {s: {"en": 0.5, "zh": 0.5, "overall": 0.5} for s in ("sft", "bucket_sft", "dpo", "hdpo")}
            for seed in "01"
        },
        n_resamples=200,
        seed=0,
    )


def test_claim5_from_pooled_detector_rates():
    published = load_published()
    alternate = [30.0 if k % 2 == 0 else 0.0 for k in range(40)]
    det_summary, det_replicates = _detector_summary(dpo_seed1=alternate)
    results = evaluate_claims(
        _summary_with_points(),
        _replicates(),
        published["claims"]["list"],
        detectors=det_summary,
        detector_replicates=det_replicates,
    )
    claim5 = results[4]
    assert claim5["verdict"] == SUPPORTED
    assert claim5["per_seed"] == {"0": SUPPORTED, "1": SUPPORTED} and claim5["seeds_in_direction"] == 2
    assert "calibrated per run seed" in claim5["note"] and "not available" in claim5["note"]
    # Bucket-SFT (Joint, AI rate) and HDPO (AI rate, beside) vs SFT and DPO, x (en, zh), one detector
    assert len(claim5["tests"]) == 12 and sum(t["decides"] for t in claim5["tests"]) == 8
    vs_dpo = next(
        t for t in claim5["tests"] if t["worse"] == "dpo" and t["better"] == "hdpo" and t["language"] == "en"
    )
    assert vs_dpo["diff"]["point"] == pytest.approx(-0.5)  # 0 - 0.5 in both seeds


def test_claim5_per_seed_verdicts_show_an_unstable_claim():
    # seed 1: DPO is never flagged either, so HDPO is no better than DPO in that seed
    det_summary, det_replicates = _detector_summary(dpo_seed1=[0.0] * 40)
    claim5 = evaluate_claims(
        _summary_with_points(),
        _replicates(),
        [c for c in load_published()["claims"]["list"] if c["id"] == 5],
        detectors=det_summary,
        detector_replicates=det_replicates,
    )[0]
    assert claim5["per_seed"] == {"0": SUPPORTED, "1": INCONCLUSIVE}
    vs_dpo = next(
        t for t in claim5["tests"] if t["worse"] == "dpo" and t["better"] == "hdpo" and t["language"] == "zh"
    )
    assert vs_dpo["diff"]["point"] == pytest.approx(-0.25)  # mean of -0.5 and 0
    assert claim5["seeds_in_direction"] == 1  # seed 1: HDPO and DPO are both never flagged


def test_published_numbers():
    pub = load_published()
    assert published_aggregate(pub, "Qwen2.5-1.5B", "bucket_sft", "en") == 0.643
    assert published_aggregate(pub, "Qwen2.5-3B", "hdpo", "en") is None
    assert published_distributional(pub, "dpo", "zh") == {"bng_macro": 16.056, "g_mauve": 0.511, "nuf": 0.163}
    assert pub["hdpo_caveat"]["clean_aggregate"]["Qwen2.5-1.5B"]["zh"] == 0.339
    assert pub["table8_human_eval"]["systems"]["bucket_sft"] == 4.85
    assert [c["id"] for c in pub["claims"]["list"]] == [1, 2, 3, 4, 5]
    assert system_label("bucket_sft_gold") == "Bucket-SFT (oracle: gold length)"


def test_replication_markdown():
    pub = load_published()
    s = _summary_with_points()
    results = evaluate_claims(s, _replicates(), pub["claims"]["list"])
    extra = judge_section({"ran": False, "reason": "No judge offline."}, pub) + human_section(
        {"zh": None}, pub
    )
    md = replication_markdown(s, pub, results, profile="embedded", extra_sections=extra)
    assert "**Scale caveat.**" in md and "2 run seeds (0, 1)" in md
    assert "Bonferroni" in md and "10% of the reference system's value" in md
    assert (
        "| 3 | HDPO further improves NUF" in md
        and "| **inconclusive** | inconclusive | supported | 2 of 2 |" in md
    )
    assert "## Language fidelity" in md
    assert "| HDPO | 0.500 [0.400, 1.000] | 0.490, 0.510 |" in md
    assert "| Bucket-SFT | 0.400 [0.400, 0.500] | 0.643 |" in md
    assert "0.639†" in md and "0.339" in md
    assert "| 2 | DPO alone often worsens" in md and "**contradicted**" in md
    # the paper's evidence beside the claim, and the deciding language of "often"
    assert "0.184 vs 0.529" in md and "(zh) |" in md
    assert md.splitlines()[2].startswith("**11 of 19 deciding comparison verdicts are evidence**")
    assert "Not run: No judge offline." in md and "No rating is ever invented" in md
    paper = replication_markdown(s, pub, results, profile="paper")
    assert "Scale caveat" not in paper


def _with_baselines(s, qa_f1_floor):
    """Add the three baselines; the two human ones score qa_f1_floor and 0.01 below on QA-F1 and
    stay far behind every system elsewhere (BNG 9, Aggregate 0, ...)."""
    import copy

    for b, qa in (
        ("human_train_bucket", qa_f1_floor - 0.01),
        ("human_test_other", qa_f1_floor),
        ("constant", 0.9),
    ):
        head = copy.deepcopy(s["headline"]["sft"])
        for lang in head:
            for m, ci in head[lang].items():
                ci["point"] = {"qa_f1": qa, "bng_macro": 9.0}.get(m, 0.0)
        s["systems"].append(b)
        s["headline"][b] = head
    return s


def test_comparisons_below_the_floor_are_no_evidence():
    """Claim 4 compares QA-F1 0.40 (HDPO) with 0.40 (SFT). A human-baseline floor of 0.45 puts both
    below it: 'below floor', whatever the interval says; a floor of 0.35 leaves the verdict. The
    constant answer (QA-F1 0.9) is no floor."""
    from polyalign.report.replication import BELOW_FLOOR, headline_lines, verdict_counts

    claims = load_published()["claims"]["list"]
    low = evaluate_claims(_with_baselines(_summary_with_points(), 0.35), _replicates(), claims)
    high = evaluate_claims(_with_baselines(_summary_with_points(), 0.45), _replicates(), claims)
    assert low[3]["verdict"] == SUPPORTED and high[3]["verdict"] == BELOW_FLOOR
    qa = next(t for t in high[3]["tests"] if t["language"] == "en")
    assert qa["floor"] == pytest.approx(0.45) and qa["floor_baseline"] == "human_test_other"
    assert qa["seed_verdicts"] == {"0": BELOW_FLOOR, "1": BELOW_FLOOR}
    # the other claims' metrics (BNG, Aggregate, NUF, G-MAUVE) clear the floor: unchanged (claim
    # 3 is inconclusive with two seeds: the t interval has one seed degree of freedom)
    assert [r["verdict"] for r in low[:3]] == [SUPPORTED, CONTRADICTED, INCONCLUSIVE]
    assert [r["verdict"] for r in high[:3]] == [SUPPORTED, CONTRADICTED, INCONCLUSIVE]
    assert verdict_counts(high)["below_floor"] == 2  # claim 4 en and zh
    assert verdict_counts(low)["below_floor"] == 0
    assert headline_lines(high)[0].startswith(
        "**9 of 19 deciding comparison verdicts are evidence**; 2 are below floor"
    )


def test_floor_verdict_combination():
    from polyalign.report.replication import BELOW_FLOOR

    assert combine_verdicts([BELOW_FLOOR, BELOW_FLOOR]) == BELOW_FLOOR
    assert combine_verdicts([SUPPORTED, BELOW_FLOOR]) == INCONCLUSIVE  # a part is no evidence
    assert combine_verdicts([CONTRADICTED, BELOW_FLOOR]) == CONTRADICTED
    assert combine_verdicts([BELOW_FLOOR, NOT_EVALUATED]) == BELOW_FLOOR


def test_claim2_is_decided_by_zh_with_en_beside():
    """DPO better than SFT in en (the paper's own en row), worse in zh: 'often' -> zh decides."""
    claim2 = [c for c in load_published()["claims"]["list"] if c["id"] == 2]
    assert claim2[0]["deciding_languages"] == ["zh"]
    per_seed = {s: {m: [[0.5] * 4] * 2 for m in ("bng_macro", "g_mauve", "aggregate")} for s in SYSTEMS}
    per_seed["dpo"] = {m: [[0.5] * 4] * 2 for m in ("bng_macro", "g_mauve", "aggregate")}
    s = _summary_with_points()
    reps = replicates(per_seed)
    for m, en_dpo, zh_dpo in (("bng_macro", 0.3, 0.9), ("g_mauve", 0.9, 0.2), ("aggregate", 0.9, 0.2)):
        reps["per_seed"]["dpo"]["en"][m] = np.full((2, 4), en_dpo) + np.array([0, 0.01, -0.01, 0])
        reps["per_seed"]["dpo"]["zh"][m] = np.full((2, 4), zh_dpo) + np.array([0, 0.01, -0.01, 0])
        for lang, v in (("en", en_dpo), ("zh", zh_dpo)):
            for system, p in (("sft", 0.5), ("dpo", v)):
                h = s["headline"][system][lang][m]
                h["point"] = p
                for seed in SEEDS:
                    h["seeds"][seed]["point"] = p
    r = evaluate_claims(s, reps, claim2)[0]
    assert r["per_language"] == {"en": CONTRADICTED, "zh": SUPPORTED}
    assert r["verdict"] == SUPPORTED and r["deciding_languages"] == ["zh"]


def test_the_claim_5_note_says_whether_the_detectors_descend_from_a_compared_system():
    from polyalign.report.replication import detector_setting_note

    assert "ancestors of no compared system" in detector_setting_note({"ancestor_models": []})
    confounded = detector_setting_note({"ancestor_models": ["base", "sft"]})
    assert confounded.startswith("confounded: detector models base, sft are compared systems' own")
