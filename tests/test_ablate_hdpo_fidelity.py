"""benchmarks/ablate_hdpo_fidelity.py: script shares, variant configs and the dry-run check."""

import importlib.util
from pathlib import Path

import pytest
import yaml

SPEC = importlib.util.spec_from_file_location(
    "ablate_hdpo_fidelity", Path(__file__).resolve().parents[1] / "benchmarks" / "ablate_hdpo_fidelity.py"
)
ablate = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(ablate)


def test_script_shares_by_hand():
    texts = ["你好世界", "hello 世界", "你好 ab", "123 !", "abc", "好"]
    langs = ["zh", "zh", "zh", "zh", "en", "en"]
    s = ablate.script_shares(texts, langs)
    # zh: "hello 世界" is mostly Latin (5 letters > 2 ideographs); "你好 ab" is a tie -> neither
    # mostly Latin nor mostly CJK; "123 !" has no script character.
    assert s["zh"] == {"n": 4, "latin_share": 0.25, "cjk_share": 0.25, "no_script_share": 0.25}
    assert s["en"] == {"n": 2, "latin_share": 0.5, "cjk_share": 0.5, "no_script_share": 0.0}
    with pytest.raises(ValueError):
        ablate.script_shares(["a"], [])


def test_variant_config_merges_into_hdpo_only():
    text = "seed: 42\npreference:\n  gamma_sft: 0.05\nhdpo:\n  lr: 2.0e-4\n"
    cfg = ablate.variant_config(text, {"gamma_sft": 0.5})
    assert cfg["hdpo"] == {"lr": 2.0e-4, "gamma_sft": 0.5}
    assert cfg["preference"] == {"gamma_sft": 0.05}
    assert yaml.safe_load(text)["hdpo"] == {"lr": 2.0e-4}  # the text itself is untouched
    with pytest.raises(ValueError, match="num_samples"):
        ablate.variant_config(text, {"num_samples": 2})  # would change the pairs
    for overrides, _ in ablate.VARIANTS.values():
        ablate.variant_config(text, overrides)


DRY = """Building DAG of jobs...
Job stats:
job                 count
----------------  -------
evaluate_system         1
train_preference        1
total                   2

[Wed Dec  2 01:00:00 2026]
localrule train_preference:
    input: results/seed0/pairs/hdpo.jsonl
    output: results/seed0/models/hdpo/train_summary.json
    log: results/logs/seed0/train_preference_hdpo.log
    jobid: 1
    reason: Forced execution
rule evaluate_system:
    input: results/seed0/generations/hdpo/test.jsonl
    output: results/metrics/seed0/hdpo.json, results/metrics/seed0/hdpo.resample.npz
    jobid: 0
"""


def test_planned_jobs_and_check():
    jobs = ablate.planned_jobs(DRY)
    assert jobs == [
        {"rule": "train_preference", "output": ["results/seed0/models/hdpo/train_summary.json"]},
        {
            "rule": "evaluate_system",
            "output": ["results/metrics/seed0/hdpo.json", "results/metrics/seed0/hdpo.resample.npz"],
        },
    ]
    ablate.check_plan(jobs, 0)
    with pytest.raises(SystemExit):
        ablate.check_plan(jobs, 1)  # outputs of another seed
    with pytest.raises(SystemExit):
        ablate.check_plan(ablate.planned_jobs(DRY.replace("seed0/models/hdpo", "seed0/models/dpo")), 0)
    with pytest.raises(SystemExit):
        ablate.check_plan(jobs[1:], 0)  # HDPO not retrained
    with pytest.raises(SystemExit):
        ablate.check_plan(jobs + [{"rule": "build_pairs", "output": ["results/seed0/pairs/hdpo.jsonl"]}], 0)


def test_pair_variants_rebuild_pairs_and_reference():
    assert ablate.forced_rules({"gamma_sft": 1.0}) == ["train_preference"]
    forced = ablate.forced_rules({"language_balance": False})
    assert forced == ["train_preference", "build_pairs", "reference_logps"]
    pairs_job = {"rule": "build_pairs", "output": ["results/seed0/pairs/hdpo.jsonl"]}
    ref_job = {"rule": "reference_logps", "output": ["results/seed0/pairs/hdpo_reference_logps.jsonl"]}
    jobs = ablate.planned_jobs(DRY) + [pairs_job, ref_job]
    ablate.check_plan(jobs, 0, forced)
    with pytest.raises(SystemExit):
        ablate.check_plan(jobs[:-1], 0, forced)  # reference log-probs of the old pairs kept
    # the archive covers the rebuilt pair files, so restoring the run restores them too
    assert {"results/seed0/pairs/hdpo.jsonl", "results/seed0/pairs/hdpo_reference_logps.jsonl"} <= set(
        ablate.hdpo_artefacts(0)
    )
