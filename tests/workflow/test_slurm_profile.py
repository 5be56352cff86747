"""The SLURM profile: real rule names, every GPU rule on a GPU partition with a runtime, and a
dry run of the paper DAG through it."""

import re
import shutil
import subprocess
import sys

import pytest
import yaml

from ..conftest import REPO
from ..paper_models import link_local_corpora

PROFILE = yaml.safe_load((REPO / "workflow" / "profiles" / "slurm" / "config.yaml").read_text())
CPU_PARTITION = PROFILE["default-resources"]["slurm_partition"]


def rules_with_resources() -> dict[str, str]:
    """rule name -> its body, over every rule file."""
    rules = {}
    for path in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        text = path.read_text()
        for m in re.finditer(r"^rule (\w+):\n((?:(?:    .*)?\n)*)", text, re.M):
            rules[m.group(1)] = m.group(2)
    rules.update({"all": ""})
    return rules


RULES = rules_with_resources()
GPU_RULES = sorted(r for r, body in RULES.items() if re.search(r"^\s+gpu=", body, re.M))


def test_profile_names_only_real_rules():
    unknown = set(PROFILE["set-resources"]) - set(RULES)
    assert not unknown, f"set-resources names no rule: {sorted(unknown)}"


def test_every_model_loading_rule_declares_a_gpu():
    loaders = {
        "train_sft",
        "train_preference",
        "train_critic",
        "generate_test",
        "generate_train_samples",
        "reference_logps",
        "features",
        "features_test",
        "critic_scores",
        "judge_system",
    }
    assert loaders <= set(GPU_RULES)


@pytest.mark.parametrize("rule", GPU_RULES)
def test_no_gpu_rule_goes_to_a_cpu_partition(rule):
    res = PROFILE["set-resources"].get(rule)
    assert res is not None, f"{rule} has a GPU but no set-resources entry (would land on {CPU_PARTITION!r})"
    assert res.get("slurm_partition") not in (None, CPU_PARTITION), rule
    assert res.get("gpu", 0) >= 1 and res.get("runtime", 0) > 0 and res.get("mem_mb", 0) > 0, rule


def test_profile_gpu_resources_only_on_gpu_partitions():
    for rule, res in PROFILE["set-resources"].items():
        if res.get("gpu"):
            assert res["slurm_partition"] != CPU_PARTITION, rule


@pytest.mark.slow
def test_dry_run_of_the_paper_dag_with_the_slurm_profile(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    for d in ("workflow", "config"):
        shutil.copytree(REPO / d, tmp_path / d)
    shutil.copy(REPO / "environment.yml", tmp_path / "environment.yml")
    link_local_corpora(tmp_path)  # the three corpora config/paper.yaml reads from local copies
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--profile",
            "workflow/profiles/slurm",
            "--configfile",
            "config/paper.yaml",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    for rule in ("build_corpus", "train_sft", "train_preference", "generate_test", "table2_main_benchmark"):
        assert re.search(rf"\b{rule}\b", out), rule


# Rules that run for seconds (tables, figures, summaries, the config copy, the embedded fetch):
# on a cluster they run in the Snakemake process itself, not as jobs with the default 8 CPUs,
# 32 GB and 4 hours. Figure 1 stays a job: its t-SNE grows with the test split.
LOCAL_RULES = {
    "all",
    "resolved_config",
    "fetch_embedded_corpus",
    "dvc_metrics",
    "dvc_plots_data",
    "detector_summary",
    "human_eval_export",
    "replication_report",
    "baseline_answers",
    "figure2_pipeline",
    *(r for r in RULES if r.startswith("table")),
    *(r for r in RULES if r.startswith("figure_")),
}


@pytest.mark.slow
def test_short_rules_are_not_submitted_to_slurm(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    for d in ("workflow", "config"):
        shutil.copytree(REPO / d, tmp_path / d)
    micro = yaml.safe_load((REPO / "tests" / "smoke" / "config.yaml").read_text())
    (tmp_path / "micro.yaml").write_text(yaml.safe_dump({**micro, "seeds": [0]}))  # one seed: a smaller DAG
    proc = subprocess.run(
        [sys.executable, str(REPO / "tests" / "workflow" / "slurm_local_jobs.py"), "micro.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    where = dict(line.split("\t") for line in proc.stdout.splitlines() if "\t" in line)
    assert {"table2_main_benchmark", "figure_critic_scores", "train_sft", "generate_test"} <= set(where)
    local = {rule for rule, place in where.items() if place == "local"}
    assert local == LOCAL_RULES & set(where)
    assert where["train_sft"] == where["figure1_tsne"] == where["evaluate_system"] == "cluster"
