"""The whole micro workflow SIGKILLed at three points (during BaseLM pretraining, during SFT and
during HDPO), each time rerun the way `make run` does (`polyalign.workflow.recovery`: unlock the
stale lock, `--rerun-incomplete`); after the SFT kill, SFT's checkpoint is also truncated (a
corrupt checkpoint: set aside, SFT starts over). The final outputs must equal, byte for byte apart from timing
fields, those of the uninterrupted run in another directory (`micro_clean_run`), which also
makes this the two-directory determinism check of the whole run: `paper_figures/` and
`results/metrics/` must be identical files, timing fields and all (they have none)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from ..conftest import micro_command, micro_snakemake, micro_workdir

pytestmark = pytest.mark.slow

# Fields that measure time or say how the run went, not what it produced.
VOLATILE = ("seconds", "elapsed", "elapsed_s", "wall_s", "resumed_from_step")
VOLATILE_SUFFIXES = ("_seconds", "_per_s")  # tokens_per_s, output_tokens_per_s …
SKIP_DIRS = ("logs", "benchmarks", "checkpoints.set-aside")


def strip_volatile(obj):
    if isinstance(obj, dict):
        return {
            k: strip_volatile(v)
            for k, v in obj.items()
            if k not in VOLATILE and not k.endswith(VOLATILE_SUFFIXES)
        }
    if isinstance(obj, list):
        return [strip_volatile(v) for v in obj]
    return obj


def comparable(path: Path) -> bytes | object:
    if path.suffix == ".json":
        return strip_volatile(json.loads(path.read_text(encoding="utf-8")))
    if path.suffix == ".jsonl":
        return [
            strip_volatile(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line
        ]
    return path.read_bytes()


def result_files(work: Path) -> list[str]:
    out = []
    for p in sorted((work / "results").rglob("*")):
        rel = p.relative_to(work)
        if p.is_file() and not any(part in SKIP_DIRS for part in rel.parts) and not p.name.startswith("."):
            out.append(str(rel))
    return out


def stage_dir(reference: Path, stage: str) -> str:
    """results/[seed*/]models/<stage>, as laid out by the reference run."""
    (summary,) = [p for p in reference.glob("results/**/models/" + stage + "/train_summary.json")][:1]
    return str(summary.parent.relative_to(reference))


def start(work: Path, targets: list[str]) -> subprocess.Popen:
    recovery = [sys.executable, "-m", "polyalign.workflow.recovery", *micro_command(*targets)[3:]]
    with open(work / f"run-{time.time_ns()}.log", "w") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            recovery, cwd=work, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def kill_when(proc: subprocess.Popen, work: Path, pattern: str, timeout: float = 1800) -> None:
    """SIGKILL the whole process group (Snakemake and every job) once `pattern` exists."""
    deadline = time.time() + timeout
    while not list(work.glob(pattern)):
        assert proc.poll() is None, f"the run ended (rc {proc.returncode}) before {pattern} appeared"
        assert time.time() < deadline, f"{pattern} did not appear"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def finish(work: Path, targets: list[str]) -> None:
    proc = start(work, targets)
    assert proc.wait(timeout=3600) == 0, max(work.glob("run-*.log")).read_text()[-4000:]


@pytest.fixture(scope="module")
def killed_run(micro_clean_run, tmp_path_factory):
    ref = micro_clean_run
    work = micro_workdir(tmp_path_factory.mktemp("micro_killed"))
    stages = {s: stage_dir(ref, s) for s in ("base", "sft", "hdpo")}
    targets = [f"{stages['sft']}/train_summary.json", f"{stages['hdpo']}/train_summary.json"]
    every = 20  # train_common.checkpoint_every in tests/smoke/config.yaml
    points = []
    for stage in ("base", "sft", "hdpo"):
        steps = json.loads((ref / stages[stage] / "train_summary.json").read_text())["train"]["steps"]
        # kill after a checkpoint where the stage has one, else after its first logged step
        pattern = (
            f"{stages[stage]}/checkpoints/step-*" if steps > every else f"{stages[stage]}/train_log.jsonl"
        )
        proc = start(work, targets)
        kill_when(proc, work, pattern)
        assert not (work / stages[stage] / "train_summary.json").exists(), f"{stage} finished before the kill"
        points.append((stage, pattern))
        if stage == "sft":
            newest = max((work / stages["sft"] / "checkpoints").glob("step-*"), key=lambda p: int(p.name[5:]))
            weights = newest / "model.safetensors"
            weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    finish(work, [])  # the whole workflow: every table, figure and metrics file
    return SimpleNamespace(ref=ref, work=work, targets=targets, stages=stages, points=points)


def test_three_kill_points_then_rerun_equals_the_uninterrupted_run(killed_run):
    ref, work, targets, points = killed_run.ref, killed_run.work, killed_run.targets, killed_run.points
    assert [s for s, _ in points] == ["base", "sft", "hdpo"]
    files = result_files(work)
    assert all(t in files for t in targets)  # 0 outputs lost
    differ = [f for f in files if comparable(work / f) != comparable(ref / f)]
    assert differ == []
    aside = [str(p.relative_to(work)) for p in work.glob("results/**/checkpoints.set-aside")]
    assert aside == [f"{killed_run.stages['sft']}/checkpoints.set-aside"]  # only the corrupted one
    assert not list(work.glob("results/**/checkpoints"))  # removed once each model was final


def test_paper_figures_and_metrics_are_byte_identical_to_the_clean_run(killed_run):
    ref, work = killed_run.ref, killed_run.work

    def files(root: Path) -> list[str]:
        return sorted(
            str(p.relative_to(root))
            for d in ("paper_figures", "results/metrics")
            for p in (root / d).rglob("*")
            if p.is_file()
        )

    listed = files(ref)
    assert listed == files(work)
    assert any(f.startswith("paper_figures/") for f in listed) and "results/metrics/summary.json" in listed
    assert [f for f in listed if (work / f).read_bytes() != (ref / f).read_bytes()] == []


def test_the_killed_stages_resumed_and_the_corrupt_checkpoint_was_set_aside(killed_run):
    work, stages, points = killed_run.work, killed_run.stages, killed_run.points
    for stage, pattern in points:
        summary = json.loads((work / stages[stage] / "train_summary.json").read_text())
        if "checkpoints" in pattern and stage != "sft":
            assert summary["train"]["resumed_from_step"], stage
    sft = json.loads((work / stages["sft"] / "train_summary.json").read_text())
    assert sft["train"]["resumed_from_step"] is None  # its only checkpoint was corrupt
    (reason,) = work.glob(f"{stages['sft']}/checkpoints.set-aside/*/REASON.txt")
    assert "corrupt checkpoint" in reason.read_text() and "model.safetensors" in reason.read_text()


def test_nothing_is_stale_after_the_reruns(killed_run):
    work, targets = killed_run.work, killed_run.targets
    proc = micro_snakemake(work, "-n", *targets)
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr, proc.stdout[-3000:]
