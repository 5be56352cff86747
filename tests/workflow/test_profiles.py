"""Each profile's merged config, as the workflow itself resolves it (rule resolved_config): a
--configfile replaces the embedded default (never merged over it), presets are applied."""

import shutil
import subprocess
import sys

import pytest
import yaml

from ..conftest import REPO
from ..paper_models import PAPER_CORPORA, link_local_corpora


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    work = tmp_path_factory.mktemp("profiles")
    shutil.copytree(REPO / "workflow", work / "workflow")
    shutil.copytree(REPO / "config", work / "config")
    shutil.copy(REPO / "environment.yml", work / "environment.yml")
    shutil.copy(REPO / "tests" / "smoke" / "config.yaml", work / "config" / "micro.yaml")
    link_local_corpora(work)
    return work


def resolved(work, *args, root="."):
    """The resolved config the workflow writes under its output root `root`."""
    out = work / root / "results" / "config" / "resolved.yaml"
    out.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "results/config/resolved.yaml", *args],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return yaml.safe_load(out.read_text())


@pytest.mark.slow
def test_embedded_default_profile(work):
    cfg = resolved(work)
    assert cfg["profile"] == "embedded"
    assert set(cfg["corpora"]) == {"chatterbot", "chitchat"}
    assert cfg["model"]["source"] == "scratch"


@pytest.mark.slow
def test_paper_profile_is_standalone_with_14_corpora_and_the_named_model(work):
    cfg = resolved(work, "--configfile", "config/paper.yaml", root="runs/paper")
    assert cfg["profile"] == "paper"
    assert set(cfg["corpora"]) == set(PAPER_CORPORA)
    model = cfg["model"]
    assert model["source"] == "Qwen/Qwen2.5-1.5B" and model["family"] == "qwen2.5-1.5b"
    assert model["dtype"] == "bfloat16" and model["max_length"] == 3072
    # nothing of the embedded scratch model leaks in
    assert model["source"] != "scratch"  # the scratch sizes are schema defaults, unused by a hub model
    assert cfg["sft"]["lr"] == 1e-5 and cfg["train_common"]["mixed_precision"] == "bf16"
    assert cfg["embeddings"]["encoder"] == "intfloat/multilingual-e5-large"
    assert cfg["evaluation"]["bootstrap"]["n_resamples"] == 1000


@pytest.mark.slow
def test_paper_profile_with_another_family_and_a_local_copy(work, tmp_path):
    cfg = resolved(
        work,
        "--configfile",
        "config/paper.yaml",
        "--config",
        f"model={{preset: gemma-2-2b, path: {tmp_path}}}",
        "allow_external_paths=True",  # the local copy lies outside the project
        root="runs/paper",
    )
    assert cfg["model"]["source"] == str(tmp_path) and cfg["model"]["family"] == "gemma-2-2b"
    assert set(cfg["corpora"]) == set(PAPER_CORPORA)


@pytest.mark.slow
def test_config_overrides_inside_lists_and_mappings_keep_their_types(work):
    """`--config seeds=[3,4,5]` and a nested `model={...}`: Snakemake hands over strings inside
    them, which the schema rejected before they were re-read as YAML."""
    cfg = resolved(
        work,
        "--configfile",
        "config/micro.yaml",
        "--config",
        "seeds=[3,4,5]",
        "model={hidden_size: 48, num_heads: 4, gradient_checkpointing: true}",
    )
    assert cfg["seeds"] == [3, 4, 5]
    model = cfg["model"]
    assert model["hidden_size"] == 48 and model["num_heads"] == 4 and model["gradient_checkpointing"] is True
    assert model["num_layers"] == 2  # the rest of the micro model block is kept (mappings merge)


@pytest.mark.slow
def test_micro_profile_is_standalone(work):
    cfg = resolved(work, "--configfile", "config/micro.yaml")
    assert cfg["profile"] == "micro" and set(cfg["corpora"]) == {"chatterbot", "chitchat"}
    assert cfg["model"]["hidden_size"] == 32


@pytest.mark.slow
def test_paper_run_writes_only_under_its_own_root(work):
    """A paper run never writes the embedded default's committed results/ and paper_figures/:
    its whole DAG plans under runs/paper/, its config paths still name the files they named."""
    for committed in ("results", "paper_figures"):
        shutil.rmtree(work / committed, ignore_errors=True)
    cfg = resolved(work, "--configfile", "config/paper.yaml", root="runs/paper")
    assert not (work / "results").exists() and not (work / "paper_figures").exists()
    # a local corpus and the accelerate config, written relative to the repository: relative to
    # the output root now, so that a moved checkout keeps every param
    assert cfg["corpora"]["eli5"]["path"] == "../../data/paper/eli5_category"
    assert cfg["launch"]["accelerate_config"] == "../../workflow/accelerate/ddp.yaml"
    assert cfg["model"]["source"] == "Qwen/Qwen2.5-1.5B"  # a hub id stays one
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--forceall", "--configfile", "config/paper.yaml"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "table4_detectors" in proc.stdout  # the whole DAG
    assert not (work / "results").exists() and not (work / "paper_figures").exists()
    assert (work / "runs" / "paper" / ".snakemake").is_dir()


@pytest.mark.slow
def test_pilot_profile_dag_dry_runs_under_its_own_root(work):
    """config/pilot.yaml (docs/paper_scale.md's first run): its whole DAG, judge and detectors
    included, plans under runs/pilot/ with the subsample and the 0.5B model."""
    cfg = resolved(work, "--configfile", "config/pilot.yaml", root="runs/pilot")
    assert cfg["profile"] == "pilot" and set(cfg["corpora"]) == set(PAPER_CORPORA)
    assert cfg["model"]["source"] == "Qwen/Qwen2.5-0.5B" and cfg["subsample"]["fraction"] < 1
    assert list(cfg["judge"]["models"]) == ["qwen2_5_7b_instruct"]
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--forceall", "--configfile", "config/pilot.yaml"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for rule in ("table2_main_benchmark", "table3_llm_judge", "table4_detectors", "judge_system"):
        assert rule in proc.stdout
    assert (work / "runs" / "pilot" / ".snakemake").is_dir()
