"""`make run` recovery (issue 12): a stale Snakemake lock is removed only when no Snakemake
process runs in the directory; the rerun always passes --rerun-incomplete."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from polyalign.workflow import recovery as wr

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


@pytest.fixture
def started(calls, monkeypatch):
    """Like `calls`, and the rerun (started with Popen by main) recorded instead of run."""

    class FakePopen:
        def __init__(self, cmd, cwd=None):
            calls.append(cmd)

        def wait(self):
            return 0

    monkeypatch.setattr(wr.subprocess, "Popen", FakePopen)
    return calls


def test_stale_lock_is_unlocked_with_the_same_arguments(locked, calls):
    (locked / "c.yaml").write_text("seeds: [0]\n")
    assert wr.unlock_if_stale(
        locked, ["snakemake"], ["--cores", "2", "--configfile", "c.yaml", "--rerun-incomplete"]
    )
    assert calls == [["snakemake", "--unlock", "--cores", "2", "--configfile", "c.yaml"]]


def test_a_profile_that_writes_elsewhere_is_unlocked_where_its_lock_is(tmp_path, calls):
    # config/paper.yaml writes under runs/paper/ (Snakefile `workdir:`), and so does its lock
    (tmp_path / "paper.yaml").write_text("output_root: runs/paper\n")
    locks = tmp_path / "runs" / "paper" / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("x")
    assert not wr.unlock_if_stale(tmp_path, ["snakemake"], ["--cores", "2"])  # default profile: no lock
    assert wr.unlock_if_stale(tmp_path, ["snakemake"], ["--cores", "2", "--configfile", "paper.yaml"])
    assert calls == [["snakemake", "--unlock", "--cores", "2", "--configfile", "paper.yaml"]]


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


def test_main_reruns_incomplete_jobs(tmp_path, started, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert wr.main(["--cores", "all"]) == 0
    assert started[-1][-3:] == ["--rerun-incomplete", "--cores", "all"]


def test_make_run_goes_through_the_recovery_entry_point():
    run_recipe = (REPO / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "polyalign.workflow.recovery" in run_recipe
    operations = (REPO / "docs" / "operations.md").read_text()
    assert (
        "## When a run is interrupted" in operations
        and "--unlock" in operations
        and "--rerun-incomplete" in operations
    )
    assert "docs/operations.md" in (REPO / "README.md").read_text()  # the front page points there


def test_recovery_race_second_recovery_waits_for_the_first_and_keeps_the_lock(locked, calls):
    """Class: two recoveries at once. The check and the unlock run under an exclusive flock: while
    another recovery holds it, nothing is unlocked and the lock stays."""
    import fcntl

    other = open(locked / ".snakemake" / "recovery.lock", "a")  # noqa: SIM115 (held across the call)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        assert not wr.unlock_if_stale(locked, ["snakemake"], [], wait_s=0.3)
        assert calls == [] and wr.lock_files(locked)
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        other.close()
    assert wr.unlock_if_stale(locked, ["snakemake"], [], wait_s=0.3)


def test_recovery_starts_the_rerun_under_its_lock(locked, monkeypatch):
    """The rerun's Snakemake starts before the recovery lock is released (so a second recovery sees
    it as a live process)."""
    import fcntl

    held_at_start = []

    def probe_lock():
        with open(locked / ".snakemake" / "recovery.lock", "a") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(probe, fcntl.LOCK_UN)
            return False

    class FakePopen:
        def __init__(self, cmd, cwd=None):
            held_at_start.append(probe_lock())

        def wait(self):
            return 0

    monkeypatch.setattr(wr.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0))
    monkeypatch.setattr(wr.subprocess, "Popen", FakePopen)
    monkeypatch.chdir(locked)
    assert wr.main(["--cores", "1"]) == 0
    assert held_at_start == [True]


def test_recovery_docs_say_what_it_cannot_see_on_a_cluster():
    assert "cannot see" in wr.__doc__ and "cluster" in wr.__doc__
    assert "cluster" in (REPO / "docs" / "reliability.md").read_text()


def test_malformed_configfile_is_named_with_its_line_before_snakemake_runs(
    tmp_path, started, monkeypatch, caplog
):
    """Class: malformed YAML in a --configfile (Snakemake says only "not valid JSON or YAML")."""
    (tmp_path / "bad.yaml").write_text("seed: 1\nfoo: [1, 2\nbar: 3\n")
    monkeypatch.chdir(tmp_path)
    assert wr.main(["--cores", "1", "--configfile", "bad.yaml"]) == 1
    assert started == []
    assert "bad.yaml:3:4: malformed YAML" in caplog.text
