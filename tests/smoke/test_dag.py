"""The workflow's job graph (dry runs: nothing executes)."""

import re
import subprocess
import sys

import pytest
import yaml

from polyalign.config import load_yaml_file, resolve_config
from polyalign.seeds import run_seeds

from ..conftest import REPO
from ..dry_run import dry_run_jobs

pytestmark = pytest.mark.slow  # each dry run builds the whole DAG (~10 s)


def planned_jobs(*targets: str) -> dict[str, int]:
    """{rule: job count} of a forced dry run of `targets` on the embedded default config."""
    cmd = [sys.executable, "-m", "snakemake", "-n", "--forceall", *targets]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    stats = (proc.stdout + proc.stderr).split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


def test_plain_dpo_pairs_do_not_wait_for_the_critic():
    dpo = planned_jobs("results/seed1/pairs/dpo.jsonl")
    # DPO reads both policies' samples (DPO and HDPO drop the same prompts), never the critic
    assert "train_critic" not in dpo and dpo["generate_train_samples"] == 2
    hdpo = planned_jobs("results/seed1/pairs/hdpo.jsonl")
    assert hdpo["train_critic"] == 1


def test_the_pretraining_text_is_read_only_when_asked_for():
    base = "results/models/base/train_summary.json"
    assert planned_jobs(base)["build_pretrain_text"] == 1
    assert "build_pretrain_text" not in planned_jobs(base, "--config", "pretrain_text={use: false}")


def test_shared_stages_run_once_and_the_rest_once_per_seed():
    jobs = planned_jobs()  # the embedded default: 3 seeds, 6 systems, no oracle row
    # plus the default ablation variants (schema `variants`): hdpo_no_critic trains per seed on
    # HDPO's pairs and reference log-probs (it changes only λ), bucket_sft_flat and
    # bucket_sft_plain are two more SFTs; all generate and are evaluated per seed
    seeds, systems, variants = 3, 6, 3
    for rule in (
        "build_pretrain_text",
        "train_tokenizer",
        "pretrain_base",
        "build_references",
        "combine_metrics",
        "table2_main_benchmark",
        "table_ablations",
        "figure_ablations",
    ):
        assert jobs[rule] == 1, rule
    assert jobs["train_sft"] == 4 * seeds and jobs["train_preference"] == 3 * seeds
    assert (
        jobs["train_critic"] == seeds
        and jobs["build_pairs"] == 2 * seeds
        and jobs["reference_logps"] == 2 * seeds
    )
    systems += variants
    # three baselines (polyalign.baselines): two drawn per seed, the constant answer once
    baselines = 3
    assert jobs["baseline_answers"] == 2 * seeds + 1
    assert jobs["generate_test"] == systems * seeds
    assert jobs["evaluate_system"] == (systems + baselines) * seeds
    assert jobs["generate_train_samples"] == 2 * seeds
    # human train and val (detector calibration) once, the independent detector pair's train
    # samples once, per seed 2 sample sets; the test sets' features (with their embeddings): human
    # and the constant answer once, per seed every system and the two drawn baselines
    assert jobs["features"] == 2 + 1 + seeds * 2
    for rule in ("pretrain_detector_base", "train_detector_sft", "generate_detector_samples"):
        assert jobs[rule] == 1, rule
    assert jobs["features_test"] == 1 + 1 + seeds * (systems + 2)
    assert "embeddings" not in jobs


def test_hdpo_from_sft_pairs_references_and_starts_from_sft_and_generates_plainly(tmp_path):
    config = load_yaml_file(REPO / "config" / "config.yaml")
    config["variants"] = {
        "hdpo_from_sft": {"parent": "hdpo", "label": "HDPO from SFT (plain prompts)", "start_policy": "sft"}
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    jobs = dry_run_jobs(REPO, path, tmp_path / "jobs.json")

    def job(rule, seed, system):
        return jobs[f"{rule} [('seed', '{seed}'), ('system', '{system}')]"]

    seeds = run_seeds(resolve_config(config))
    for seed in seeds:
        run = f"results/seed{seed}"
        sft, bucket_sft = (f"{run}/generations/{m}/train_samples.jsonl" for m in ("sft", "bucket_sft"))
        # its own pairs: SFT's samples (DPO's), the HDPO critic, DPO's and HDPO's prompts
        pairs = job("build_pairs", seed, "hdpo_from_sft")
        assert pairs["input"]["samples"] == sft and pairs["input"]["critic"] == f"{run}/critic/model"
        assert sorted(pairs["input"]["companion"]) == [bucket_sft, sft]
        assert (pairs["params"]["system"], pairs["params"]["start_policy"]) == ("hdpo", "sft")
        assert pairs["params"]["settings"] == job("build_pairs", seed, "hdpo")["params"]["settings"]
        # SFT is the reference model and the start of training
        start = f"{run}/models/sft/train_summary.json"
        own = f"{run}/pairs/hdpo_from_sft"
        assert job("reference_logps", seed, "hdpo_from_sft")["input"] == {
            "pairs": f"{own}.jsonl",
            "model": start,
        }
        train = job("train_preference", seed, "hdpo_from_sft")
        assert train["input"] == {
            "pairs": f"{own}.jsonl",
            "reference": f"{own}_reference_logps.jsonl",
            "model": start,
        }
        assert train["params"]["start_policy"] == "sft" and train["params"]["system"] == "hdpo"
        generate = job("generate_test", seed, "hdpo_from_sft")
        assert (generate["params"]["system"], generate["params"]["style"]) == ("hdpo", "plain")
        assert generate["input"]["model"] == f"{run}/models/hdpo_from_sft/train_summary.json"
        assert f"evaluate_system [('seed', '{seed}'), ('system', 'hdpo_from_sft')]" in jobs
        # HDPO itself keeps Bucket-SFT's samples, model and profile prompts
        assert job("build_pairs", seed, "hdpo")["input"]["samples"] == bucket_sft
        assert (
            job("reference_logps", seed, "hdpo")["input"]["model"]
            == f"{run}/models/bucket_sft/train_summary.json"
        )
        assert job("generate_test", seed, "hdpo")["params"]["style"] == "profile"
    # no new sampling: the two start policies' train-prompt samples, per seed
    sampled = sorted(k for k in jobs if k.startswith("generate_train_samples "))
    assert sampled == sorted(
        f"generate_train_samples [('seed', '{seed}'), ('system', '{m}')]"
        for seed in seeds
        for m in ("sft", "bucket_sft")
    )
    # the ablation table compares it with its parent
    assert jobs["table_ablations []"]["params"]["variants"] == {"hdpo_from_sft": "hdpo"}


def test_bucket_key_variants_train_on_their_keys_buckets_and_are_evaluated_on_the_runs(tmp_path):
    config = load_yaml_file(REPO / "config" / "config.yaml")
    no_length, no_family = ["language", "track", "family"], ["language", "track", "length_bin"]
    config["variants"] = {
        "bucket_sft_no_length": {"parent": "bucket_sft", "bucket_key": no_length},
        "hdpo_no_length": {"parent": "hdpo", "bucket_key": no_length},
        "hdpo_no_family": {"parent": "hdpo", "bucket_key": no_family},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    jobs = dry_run_jobs(REPO, path, tmp_path / "jobs.json")
    seeds = run_seeds(resolve_config(config))
    key_dirs = {name: f"bucket_key/{'-'.join(v['bucket_key'])}/" for name, v in config["variants"].items()}

    def job(rule, **wildcards):
        return jobs[f"{rule} {sorted((k, str(v)) for k, v in wildcards.items())}"]

    # one re-bucketed split per key (two variants share language-track-family), from the run's splits
    assert sorted(k for k in jobs if k.startswith("rebucket_split ")) == [
        "rebucket_split [('key', 'language-track-family')]",
        "rebucket_split [('key', 'language-track-length_bin')]",
    ]
    assert job("rebucket_split", key="language-track-family")["params"]["bucket_key"] == no_length
    # references once per key an HDPO variant reads, the critic once per such key and seed
    refs = sorted(k for k in jobs if k.startswith("build_references "))
    assert refs == sorted(f"build_references [('keydir', '{d}')]" for d in {"", *key_dirs.values()})
    assert job("build_references", keydir=key_dirs["hdpo_no_family"])["input"] == {
        "records": "results/corpus/bucket_key/language-track-length_bin/train.jsonl",
        "features": "results/features/human_train.npz",
    }
    assert job("build_references", keydir="")["input"] == {"features": "results/features/human_train.npz"}
    for seed in seeds:
        run = f"results/seed{seed}"
        # Bucket-SFT's variant: its key's split and back-off key; the run's Bucket-SFT keeps its own
        sft = job("train_sft", model="bucket_sft_no_length", seed=seed)
        assert sft["input"]["train"] == "results/corpus/bucket_key/language-track-family/train.jsonl"
        assert sft["params"]["settings"]["bucket_key"] == no_length
        own = job("train_sft", model="bucket_sft", seed=seed)
        assert (
            own["input"]["train"] == "results/corpus/train.jsonl"
            and "bucket_key" not in own["params"]["settings"]
        )
        # HDPO's variant: its key's split, references and critic; Bucket-SFT's samples and model
        d = key_dirs["hdpo_no_family"]
        critic = job("train_critic", keydir=d, seed=seed)
        assert critic["input"]["train"] == f"results/corpus/{d}train.jsonl"
        assert critic["input"]["references"] == f"results/references/{d}references.json"
        assert critic["input"]["human"] == "results/features/human_train.npz"
        pairs = job("build_pairs", seed=seed, system="hdpo_no_family")
        assert pairs["input"]["train"] == f"results/corpus/{d}train.jsonl"
        assert pairs["input"]["references"] == f"results/references/{d}references.json"
        assert pairs["input"]["critic"] == f"{run}/critic/{d}model"
        assert pairs["input"]["samples"] == job("build_pairs", seed=seed, system="hdpo")["input"]["samples"]
        assert job("build_pairs", seed=seed, system="hdpo")["input"]["critic"] == f"{run}/critic/model"
        assert job("train_preference", seed=seed, system="hdpo_no_family")["input"]["pairs"] == (
            f"{run}/pairs/hdpo_no_family.jsonl"
        )
        # every variant generates on and is evaluated against the run's test split and references
        for name in key_dirs:
            assert (
                job("generate_test", seed=seed, system=name)["input"]["records"]
                == "results/corpus/test.jsonl"
            )
            evaluation = job("evaluate_system", seed=seed, system=name)["input"]
            assert evaluation["test"] == "results/corpus/test.jsonl"
            assert evaluation["references"] == "results/references/references.json"
    critics = [k for k in jobs if k.startswith("train_critic ")]
    assert len(critics) == 3 * len(seeds)  # the run's key and the two HDPO variants' keys
    assert jobs["table_ablations []"]["params"]["variants"] == {
        "bucket_sft_no_length": "bucket_sft",
        "hdpo_no_length": "hdpo",
        "hdpo_no_family": "hdpo",
    }
