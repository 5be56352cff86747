"""Runs the real Snakemake workflow end to end on the micro config, in a scratch copy."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    work = tmp_path_factory.mktemp("workflow")
    shutil.copytree(REPO / "workflow", work / "workflow")
    shutil.copytree(REPO / "config", work / "config")
    shutil.copy(REPO / "environment.yml", work / "environment.yml")  # the rules' conda directive
    shutil.copy(REPO / "tests" / "smoke" / "config.yaml", work / "config" / "micro.yaml")
    return work


def snakemake(work: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "config/micro.yaml", *args]
    return subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=1500)


@pytest.fixture(scope="module")
def first_run(workdir):
    proc = snakemake(workdir)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc


def test_workflow_produces_corpus_and_table1(workdir, first_run):
    for rel in ["results/corpus/train.jsonl", "results/corpus/test.jsonl", "results/corpus/bucket_stats.json",
                "paper_figures/table1_corpus_inventory.md", "paper_figures/table1_corpus_inventory.tex"]:
        assert (workdir / rel).stat().st_size > 0, rel
    table = (workdir / "paper_figures/table1_corpus_inventory.md").read_text()
    assert "| chitchat" in table and "| chatterbot" in table


def test_second_run_has_nothing_to_do(workdir, first_run):
    proc = snakemake(workdir)
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_lint_is_clean(workdir):
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0 and "Congratulations" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
