"""benchmarks/workflow_times.py on a hand-written Snakemake log (the format of snakemake 9)."""

import importlib.util
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "workflow_times", Path(__file__).resolve().parents[1] / "benchmarks" / "workflow_times.py"
)
workflow_times = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(workflow_times)


def block(stamp, rule, log, jobid, local=False):
    return (
        f"[Fri Nov 27 {stamp} 2026]\n{'localrule' if local else 'rule'} {rule}:\n"
        f"    input: a\n    output: b\n    log: {log}\n    jobid: {jobid}\n    reason: x\n"
    )


def finish(stamp, jobid, rule):
    return f"[Fri Nov 27 {stamp} 2026]\nFinished jobid: {jobid} (Rule: {rule})\n1 of 9 steps (11%) done\n"


LOG = (
    block("10:00:00", "build_pairs", "results/logs/build_pairs_dpo.log", 1, local=True)
    + block("10:00:02", "build_pairs", "results/logs/build_pairs_hdpo.log", 2)
    + finish("10:00:10", 1, "build_pairs")
    + finish("10:00:12", 2, "build_pairs")
    + block("10:00:12", "generate_test", "results/logs/generate_test_dpo.log", 3)
    + block("10:00:12", "generate_test", "results/logs/generate_test_hdpo.log", 4)
    + finish("10:01:12", 3, "generate_test")
    + finish("10:02:00", 4, "generate_test")
    + block("10:02:00", "all", "x", 5, local=True)
    + finish("10:02:00", 5, "all")
)


def test_jobs_and_segments_by_hand(tmp_path):
    path = tmp_path / "run.snakemake.log"
    path.write_text(LOG)
    jobs = workflow_times.parse_log(path)
    assert [(j["log"].split("/")[-1], j["seconds"]) for j in jobs] == [
        ("build_pairs_dpo.log", 10),
        ("build_pairs_hdpo.log", 10),
        ("generate_test_dpo.log", 60),
        ("generate_test_hdpo.log", 108),
    ]
    s = workflow_times.summarize(jobs, cores=2)
    assert s["wall_s"] == 120 and s["job_seconds"] == 188 and s["preference_segment_s"] == 120
    assert s["busy_share"] == pytest.approx(188 / 240)


def test_finish_without_start_is_an_error(tmp_path):
    path = tmp_path / "bad.log"
    path.write_text(finish("10:00:00", 7, "x"))
    with pytest.raises(ValueError, match="Finished jobid: 7"):
        workflow_times.parse_log(path)
