"""The ablation table: paired differences parent - variant on Table 2's draws."""

import numpy as np
import pytest

from polyalign.evaluation.w1_bias import W1_METRICS
from polyalign.report.ablations import (
    ablation_rows,
    ablation_sections,
    component_verdict,
    metric_floors,
    verdict_lines,
    work_section,
)


def replicates(systems, rng, R=400):
    per_seed = {
        s: {"en": {m: rng.normal(v, 0.01, size=(3, R)) for m, v in ms.items()}} for s, ms in systems.items()
    }
    bias_bound = {
        s: {"en": {m: np.full(3, 0.02) for m in ms if m in W1_METRICS}} for s, ms in systems.items()
    }
    return {"seeds": ["0", "1", "2"], "n_prompts": {"en": 50}, "per_seed": per_seed, "bias_bound": bias_bound}


def merge_replicates(a, b):
    return {
        **a,
        "per_seed": {**a["per_seed"], **b["per_seed"]},
        "bias_bound": {**a["bias_bound"], **b["bias_bound"]},
    }


def test_a_variant_identical_to_its_parent_differs_by_exactly_zero():
    rng = np.random.default_rng(0)
    table2 = replicates({"hdpo": {"qa_f1": 0.3, "bng_macro": 0.5}}, rng)
    same = {
        **table2,
        "per_seed": {"copy": table2["per_seed"]["hdpo"]},
        "bias_bound": {"copy": table2["bias_bound"]["hdpo"]},
    }
    reps = merge_replicates(table2, same)
    points = {s: {"en": {"qa_f1": [0.3, 0.31, 0.29], "bng_macro": [0.5, 0.4, 0.6]}} for s in ("hdpo", "copy")}
    rows = ablation_rows(reps, points, {"copy": "hdpo"}, ["en"], 0.05, metrics=("qa_f1", "bng_macro"))
    for r in rows:
        assert r["diff"] == {"point": 0.0, "low": 0.0, "high": 0.0} and r["verdict"] == "no detectable effect"


def test_the_verdict_follows_the_metrics_direction():
    rng = np.random.default_rng(1)
    table2 = replicates({"hdpo": {"qa_f1": 0.30, "bng_macro": 0.50}}, rng)
    variant = replicates({"v": {"qa_f1": 0.20, "bng_macro": 0.40}}, rng)
    reps = merge_replicates(table2, variant)
    points = {
        "hdpo": {"en": {"qa_f1": [0.30] * 3, "bng_macro": [0.50] * 3}},
        "v": {"en": {"qa_f1": [0.20] * 3, "bng_macro": [0.40] * 3}},
    }
    rows = ablation_rows(reps, points, {"v": "hdpo"}, ["en"], 0.05, metrics=("qa_f1", "bng_macro"))
    by_metric = {r["metric"]: r for r in rows}
    # the parent has the higher QA-F1 (the component helps) and the higher, i.e. worse, BNG (it hurts)
    assert (
        by_metric["qa_f1"]["diff"]["point"] == pytest.approx(0.10)
        and by_metric["qa_f1"]["verdict"] == "helps"
    )
    assert by_metric["bng_macro"]["verdict"] == "hurts"
    table = ablation_sections(rows, {"v": "No critic", "hdpo": "HDPO"})[0]
    assert table["rows"][0][:2] == ["No critic", "HDPO"] and table["rows"][0][2].endswith("+")
    assert verdict_lines(rows, {"v": "No critic", "hdpo": "HDPO"}) == [
        "- No critic vs HDPO: **mixed** (helps: QA-F1 (en); hurts: BNG-macro (en))"
    ]


def test_a_difference_where_either_system_is_below_the_floor_is_no_evidence():
    rng = np.random.default_rng(2)
    reps = merge_replicates(
        replicates({"hdpo": {"qa_f1": 0.30, "bng_macro": 0.50}}, rng),
        replicates({"v": {"qa_f1": 0.20, "bng_macro": 0.40}}, rng),
    )
    points = {
        "hdpo": {"en": {"qa_f1": [0.30] * 3, "bng_macro": [0.50] * 3}},
        "v": {"en": {"qa_f1": [0.20] * 3, "bng_macro": [0.40] * 3}},
    }

    def rows_with(floors):
        return ablation_rows(
            reps, points, {"v": "hdpo"}, ["en"], 0.05, metrics=("qa_f1", "bng_macro"), floors={"en": floors}
        )

    # QA-F1 floor 0.25: the variant (0.20) does not beat it; BNG floor 0.45 (lower is better):
    # the parent (0.50) does not beat it. Without a floor the verdicts would be helps / hurts.
    rows = rows_with({"qa_f1": 0.25, "bng_macro": 0.45})
    assert [(r["metric"], r["verdict"], r["floor"]) for r in rows] == [
        ("qa_f1", "below floor", 0.25),
        ("bng_macro", "below floor", 0.45),
    ]
    assert ablation_sections(rows, {})[0]["rows"][0][2].endswith("‡")
    # floors both systems beat (0.1 for QA-F1; 0.6 for BNG): the plain verdicts come back
    rows = rows_with({"qa_f1": 0.1, "bng_macro": 0.6})
    assert [r["verdict"] for r in rows] == ["helps", "hurts"]
    lines = work_section(rows, {"v": "No critic", "hdpo": "HDPO"})
    assert lines[1] == "## What does the work (ablations)" and lines[-1].startswith(
        "- No critic vs HDPO: **mixed**"
    )


def test_the_floors_come_from_the_better_prompt_blind_baseline():
    from polyalign.baselines import FLOOR_BASELINES

    a, b = FLOOR_BASELINES
    head = {
        a: {"en": {"qa_f1": {"point": 0.10}, "bng_macro": {"point": 0.70}}},
        b: {"en": {"qa_f1": {"point": 0.15}, "bng_macro": {"point": 0.80}}},
    }
    head[a]["en"]["language_fidelity"] = head[b]["en"]["language_fidelity"] = {"point": 1.0}
    # no floor for language fidelity (the baselines are in the prompt's language by construction)
    floors = metric_floors({"headline": head}, ["en"], ["qa_f1", "bng_macro", "nuf", "language_fidelity"])
    assert floors == {"en": {"qa_f1": 0.15, "bng_macro": 0.70}}


def test_the_floors_from_per_seed_points_equal_table_2s():
    """The ablation table reads the floor baselines' per-seed points, not Table 2's summary: the
    pooled point is the mean over seeds, so both give the same floors."""
    from polyalign.baselines import FLOOR_BASELINES
    from polyalign.evaluation.pooled import interval_summary
    from polyalign.report.floor import pooled_points

    a, b = FLOOR_BASELINES
    values = {
        a: {"qa_f1": [0.10, 0.13, 0.16], "bng_macro": [0.7, 0.6, 0.8]},
        b: {"qa_f1": [0.12, 0.12, 0.15], "bng_macro": [0.9, float("nan"), 0.9]},
    }
    per_seed = {
        s: [{"headline": {"en": {m: v[k] for m, v in values[s].items()}}} for k in range(3)] for s in values
    }
    floors = metric_floors(pooled_points(per_seed), ["en"], ["qa_f1", "bng_macro"])
    assert floors["en"]["qa_f1"] == pytest.approx(0.13) and floors["en"]["bng_macro"] == pytest.approx(0.7)
    reps = np.zeros((3, 10))
    summary = {
        "headline": {
            s: {"en": {m: interval_summary(v, reps, 0.05, 20) for m, v in values[s].items()}} for s in values
        }
    }
    assert metric_floors(summary, ["en"], ["qa_f1", "bng_macro"]) == floors


def test_one_verdict_per_component():
    assert component_verdict(["helps", "no detectable effect"]) == "helps"
    assert component_verdict(["hurts", "below floor"]) == "hurts"
    assert component_verdict(["helps", "hurts"]) == "mixed"
    assert component_verdict(["below floor", "below floor"]) == "no evidence (below floor)"
    assert (
        component_verdict(["below floor", "no detectable effect"])
        == "no evidence (1 of 2 cells below floor, no detectable effect in the rest)"
    )
    assert component_verdict(["no detectable effect"] * 2) == "no detectable effect"
