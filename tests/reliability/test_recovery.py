"""`make run` recovery (issue 12): a stale Snakemake lock is removed only when no Snakemake
process runs in the directory; the rerun always passes --rerun-incomplete."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from polyalign import workflow_recovery as wr

from ..conftest import REPO


@pytest.fixture
def locked(tmp_path):
    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("x")
    return tmp_path


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def fake_run(cmd, cwd=None, check=False):
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(wr.subprocess, "run", fake_run)
    return seen


def test_stale_lock_is_unlocked_with_the_same_arguments(locked, calls):
    assert wr.unlock_if_stale(
        locked, ["snakemake"], ["--cores", "2", "--configfile", "c.yaml", "--rerun-incomplete"]
    )
    assert calls == [["snakemake", "--unlock", "--cores", "2", "--configfile", "c.yaml"]]


def test_no_lock_no_unlock(tmp_path, calls):
    assert not wr.unlock_if_stale(tmp_path, ["snakemake"], [])
    assert calls == []


def test_lock_held_by_a_live_snakemake_process_stays(locked, calls):
    # a stand-in process whose command line names snakemake, running in the locked directory
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "snakemake"], cwd=locked)
    try:
        deadline = time.time() + 10
        while holder.pid not in (wr.snakemake_processes(locked, exclude=set()) or []):
            assert time.time() < deadline
            time.sleep(0.05)
        assert not wr.unlock_if_stale(locked, ["snakemake"], [])
        assert calls == [] and wr.lock_files(locked)
    finally:
        holder.kill()
        holder.wait()
    assert wr.unlock_if_stale(locked, ["snakemake"], [])  # the holder is gone: now it is stale


def test_main_reruns_incomplete_jobs(tmp_path, calls, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert wr.main(["--cores", "all"]) == 0
    assert calls[-1][-3:] == ["--rerun-incomplete", "--cores", "all"]


def test_make_run_goes_through_the_recovery_entry_point():
    run_recipe = (REPO / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "polyalign.workflow_recovery" in run_recipe
    readme = (REPO / "README.md").read_text()
    assert (
        "## When a run is interrupted" in readme and "--unlock" in readme and "--rerun-incomplete" in readme
    )
