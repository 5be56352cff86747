"""The paper profile's DAG end to end on CPU: config/paper.yaml (standalone, not the embedded
default) with the 14 corpus fixtures in their sources' layouts, a tiny random Qwen2 checkpoint as
`model.path` (chat template, special tokens and architecture of the real family), a tiny Llama as
the named MAUVE encoder, the detectors of Table 4 on
pairs of different vocabularies (Fast-DetectGPT on two tiny Llamas, Binoculars on two tiny
Gemma-2s, as the paper pairs Llama-3 with Falcon), the two LLM judges of Table 3 (both pointed
at the tiny Qwen2), and training under `accelerate launch`. Only sizes are overridden (one run
seed instead of three); no embedded-only code path (scratch tokenizer/BaseLM pre-training,
embedded fetch) runs. Budget: 6 minutes on 2 cores (docs/paper_scale.md has the measured time)."""

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ..conftest import REPO
from ..paper_models import build_tiny_checkpoint

pytestmark = pytest.mark.slow

FIXTURES = REPO / "tests" / "fixtures" / "corpora"
# The DAG to Tables 2, 3 and 4 with everything they need: Table 1 and the resolved config come along.
TARGETS = (
    "paper_figures/table2_main_benchmark.md",
    "paper_figures/table3_llm_judge.md",
    "paper_figures/table4_detectors.md",
    "paper_figures/table1_corpus_inventory.md",
    "results/config/resolved.yaml",
)
SIZES = {  # everything else is config/paper.yaml as shipped
    "seeds": [0],
    "prompt": {"max_prompt_tokens": 384, "max_history_turns": 2},
    "min_bucket_size": 2,
    "train_common": {"micro_batch_size": 4, "checkpoint_every": 0},
    "sft": {"global_batch_size": 8},
    # 8 new tokens are far below the fixture answers' lengths: the length guard is off
    "generation": {
        "max_new_tokens": 8,
        "cot_extra_tokens": 8,
        "batch_size": 32,
        "length_check_quantile": None,
    },
    "features": {"batch_size": 32},
    "critic": {"epochs": 3, "max_length": 128, "encoder_batch_size": 32, "collapse_min_std": 0.0},
    "preference": {"global_batch_size": 8, "micro_batch_size": 4, "ref_batch_size": 32},
    "embeddings": {"batch_size": 32, "max_length": 64},
    "evaluation": {
        "min_bucket_size": 2,
        "bootstrap": {"n_resamples": 20},
        "diversity": {"n_samples": 20, "n_references": 5},
        "mauve": {"kmeans_num_redo": 1, "kmeans_max_iter": 20},
    },
    "figures": {"tsne": {"max_points": 50}},
}


def paper_ci_config(work: Path, policy: Path, encoder: Path, detectors: dict | None = None) -> dict:
    cfg = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    cfg["allow_external_paths"] = True  # the corpus fixtures live in the repository, outside `work`
    for key in cfg["corpora"]:
        cfg["corpora"][key] = {
            **cfg["corpora"][key],
            "path": str(FIXTURES / key),
            "cache_dir": str(work / "hf"),
        }
    for key, value in SIZES.items():
        cfg[key] = (
            {**cfg[key], **value} if isinstance(value, dict) and isinstance(cfg.get(key), dict) else value
        )
    # the paper profile's model.device is cuda (no silent CPU run): this CPU run chooses the CPU
    cfg["model"] = {**cfg["model"], "path": str(policy), "max_length": 512, "device": "cpu"}
    cfg["embeddings"]["encoder"] = str(encoder)
    # Table 3's judges: both named judge entries of the paper profile, pointed at the tiny policy
    for entry in cfg["judge"]["models"].values():
        entry["path"] = str(policy)
    cfg["judge"]["batch_size"] = 8
    if detectors is not None:  # Table 4's pairs: tiny checkpoints of two different vocabularies
        cfg["detectors"]["fast_detectgpt"] = {
            "scoring_model": str(detectors["llama_a"]),
            "sampling_model": str(detectors["llama_b"]),
        }
        cfg["detectors"]["binoculars"] = {
            "observer": str(detectors["gemma_a"]),
            "performer": str(detectors["gemma_b"]),
        }
        cfg["detectors"]["batch_size"] = 32
    return cfg


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("paper_shaped")
    for d in ("workflow", "config"):
        shutil.copytree(REPO / d, work / d)
    shutil.copy(REPO / "environment.yml", work / "environment.yml")
    policy = build_tiny_checkpoint("qwen2", work / "models" / "tiny-qwen2")
    encoder = build_tiny_checkpoint("llama3", work / "models" / "tiny-llama3")
    detectors = {
        "llama_a": encoder,
        "llama_b": build_tiny_checkpoint("llama3", work / "models" / "tiny-llama3-b", seed=1),
        "gemma_a": build_tiny_checkpoint("gemma2", work / "models" / "tiny-gemma2-a", seed=2),
        "gemma_b": build_tiny_checkpoint("gemma2", work / "models" / "tiny-gemma2-b", seed=3),
    }
    cfg = paper_ci_config(work, policy, encoder, detectors)
    (work / "config" / "paper_ci.yaml").write_text(yaml.safe_dump(cfg))
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HOME": str(work / "hf" / "home"),
        "HF_DATASETS_CACHE": str(work / "hf"),
        "TOKENIZERS_PARALLELISM": "false",
    }
    t0, cpu0 = time.perf_counter(), _children_cpu_seconds()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--cores",
            "2",
            "--configfile",
            "config/paper_ci.yaml",
            "--",
            *TARGETS,
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    print(f"paper-shaped DAG: {seconds:.0f} s wall, {_children_cpu_seconds() - cpu0:.0f} s CPU (user + sys)")
    # the paper profile writes under its own output root, never the checkout's results/
    assert not (work / "results").exists() and not (work / "paper_figures").exists()
    return work / "runs" / "paper", proc.stdout + proc.stderr, seconds


def _children_cpu_seconds() -> float:
    """CPU time of this process's finished descendants (Snakemake and every job it ran): on a
    shared machine the wall time depends on the load, this much less."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_paper_dag_runs_to_table2(paper_run):
    work, out, seconds = paper_run
    table2 = (work / "paper_figures" / "table2_main_benchmark.md").read_text()
    for label in ["BaseLM", "CoT", "SFT", "Bucket-SFT", "DPO", "HDPO"]:
        assert f"| {label} " in table2
    assert "(en)" in table2 and "(zh)" in table2
    table1 = (work / "paper_figures" / "table1_corpus_inventory.md").read_text()
    for key in ("dolly", "dureader", "multiwoz", "cmrc2018"):
        assert key in table1


def test_no_embedded_only_path_ran(paper_run):
    work, out, _ = paper_run
    resolved = yaml.safe_load((work / "results" / "config" / "resolved.yaml").read_text())
    assert resolved["profile"] == "paper" and len(resolved["corpora"]) == 14
    assert (
        resolved["model"]["source"].endswith("tiny-qwen2") and resolved["model"]["family"] == "qwen2.5-1.5b"
    )
    assert "fetch_embedded_corpus" not in out
    base = json.loads((work / "results" / "models" / "base" / "train_summary.json").read_text())
    assert base["trained"] is False and base["source"].endswith("tiny-qwen2")  # copied, not pre-trained
    cfg = json.loads((work / "results" / "models" / "base" / "config.json").read_text())
    assert cfg["model_type"] == "qwen2"
    for system in ("sft", "bucket_sft", "dpo", "hdpo"):
        summary = json.loads(
            (work / "results" / "seed0" / "models" / system / "train_summary.json").read_text()
        )
        assert summary["train"]["mixed_precision"] == "bf16"
    assert (
        "accelerate.commands.launch"
        in (work / "results" / "logs" / "seed0" / "train_sft_sft.log").read_text()
    )


def test_table4_from_detector_pairs_of_different_vocabularies(paper_run):
    work, out, _ = paper_run
    summary = json.loads((work / "results" / "seed0" / "detectors" / "zero_shot_summary.json").read_text())
    assert summary["condition_on_prompt"] is False  # config/paper.yaml: the text on its own
    assert summary["pairs"]["binoculars"]["first"].endswith("tiny-gemma2-a")  # the observer
    assert summary["pairs"]["fast_detectgpt"]["max_tokens"] == 512
    rows = [
        json.loads(line)
        for line in (work / "results" / "seed0" / "detectors" / "zero_shot_scores.jsonl").open()
    ]
    # SQuAD v2's unanswerable questions keep an empty human answer: no detector scores it, and
    # Table 4 leaves those prompts out with a count instead of failing or flagging the human
    empty = {
        split: {
            r["id"]
            for r in map(json.loads, (work / "results" / "corpus" / f"{split}.jsonl").open())
            if not r["human_answer"].strip()
        }
        for split in ("val", "test")
    }
    assert empty["val"] and empty["test"]
    for det in ("fast_detectgpt", "binoculars"):
        for split in ("val", "test"):
            human = [
                r for r in rows if r["detector"] == det and r["system"] == "human" and r["split"] == split
            ]
            assert {r["id"] for r in human if r["score"] is None} == empty[split]
    summary = json.loads((work / "results" / "detectors" / "summary.json").read_text())
    for split in ("val", "test"):
        assert sum(summary["excluded_prompts"][split].values()) == len(empty[split])
    n_test = sum(1 for _ in (work / "results" / "corpus" / "test.jsonl").open())
    assert summary["n_prompts"]["overall"] == n_test - len(empty["test"])
    table4 = (work / "paper_figures" / "table4_detectors.md").read_text()
    assert "Binoculars" in table4 and "Fast-DetectGPT" in table4
    # external zero-shot pairs, but the trained detector learns from the compared SFT models'
    # samples (the authors' design; no independent pair from a hub base): named as confounded
    assert summary["ancestor_models"] == ["bucket_sft", "sft"]
    assert "Confounded setting: detector models bucket_sft, sft" in table4
    assert f"{len(empty['test'])} without a scored human answer left out" in table4


def test_drop_report_lists_the_fixture_drops(paper_run):
    work, _, _ = paper_run
    report = json.loads((work / "results" / "corpus" / "drop_report.json").read_text())
    assert set(report["corpora"]) == {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert report["max_drop_rate"] == 0.05  # config/paper.yaml's; the fixtures' bad rows are loader skips


def test_table3_from_both_judges_of_the_paper_profile(paper_run):
    work, out, _ = paper_run
    cfg = yaml.safe_load((work / "results" / "config" / "resolved.yaml").read_text())
    judges = list(cfg["judge"]["models"])
    assert len(judges) == 2
    table3 = (work / "paper_figures" / "table3_llm_judge.md").read_text()
    for label in ["SFT", "Bucket-SFT", "DPO", "HDPO"]:
        assert f"| {label} " in table3
    # one judge job per (judge, system) of the run seed, each loading its judge model
    assert out.count("rule judge_system:") >= 2 * 4
    bench = sorted((work / "results" / "benchmarks" / "seed0").glob("judge_system_*.tsv"))
    seconds = [float(p.read_text().splitlines()[1].split("\t")[0]) for p in bench]
    print(f"Table 3's judge jobs: {len(seconds)}, {sum(seconds):.0f} job-seconds")
