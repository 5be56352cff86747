"""benchmarks/workflow_times.py on a hand-written Snakemake log and benchmark files (the formats of
snakemake 9)."""

import importlib.util
import re
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


HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
RULES_DIR = Path(__file__).resolve().parents[1] / "workflow" / "rules"


def bench(root, rel, wall, rss, cpu):
    path = root / "results" / "benchmarks" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{wall}\t0:00:00\t{rss}\t1\t1\t1\t0\t0\t50\t{cpu}\n")


def test_every_rule_writes_a_benchmark_file_named_after_its_log():
    rules = {}
    for path in RULES_DIR.glob("*.smk"):
        for m in re.finditer(
            r'^rule (\w+):\n(?:    .*\n|\n)*?    log:\n\s+"([^"]+)"', path.read_text(), re.M
        ):
            rules[m.group(1)] = m.group(2)
    patterns = dict(workflow_times.benchmark_patterns(RULES_DIR))
    assert set(patterns) == set(rules) and len(rules) > 40
    for rule, log in rules.items():
        expected = log.replace("results/logs/", "results/benchmarks/").removesuffix(".log") + ".tsv"
        assert patterns[rule].pattern == workflow_times.benchmark_patterns_of(expected).pattern, rule


def test_stage_table_from_benchmark_files_by_hand(tmp_path):
    bench(tmp_path, "seed0/train_sft_sft.tsv", 100.5, 800.0, 190.0)
    bench(tmp_path, "seed1/train_sft_bucket_sft.tsv", 120.0, 900.5, 230.0)
    bench(tmp_path, "seed0/generate_test_dpo.tsv", 30.0, 400.0, 29.0)
    bench(tmp_path, "table1_corpus_inventory.tsv", 2.0, "NA", "NA")  # too short for a sample
    records = workflow_times.read_benchmarks(tmp_path, workflow_times.benchmark_patterns(RULES_DIR))
    assert {r["path"].split("/")[-1]: r["rule"] for r in records} == {
        "train_sft_sft.tsv": "train_sft",
        "train_sft_bucket_sft.tsv": "train_sft",
        "generate_test_dpo.tsv": "generate_test",
        "table1_corpus_inventory.tsv": "table1_corpus_inventory",
    }
    stages = workflow_times.stage_table(records)
    assert stages == [
        {
            "rule": "train_sft",
            "jobs": 2,
            "wall_s": 220.5,
            "longest_s": 120.0,
            "cpu_s": 420.0,
            "max_rss_mb": 900.5,
        },
        {
            "rule": "generate_test",
            "jobs": 1,
            "wall_s": 30.0,
            "longest_s": 30.0,
            "cpu_s": 29.0,
            "max_rss_mb": 400.0,
        },
        {
            "rule": "table1_corpus_inventory",
            "jobs": 1,
            "wall_s": 2.0,
            "longest_s": 2.0,
            "cpu_s": 0.0,
            "max_rss_mb": None,
        },
    ]


def test_a_benchmark_file_of_no_rule_is_an_error(tmp_path):
    bench(tmp_path, "stray.tsv", 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="stray.tsv: matches the benchmark path of 0 rules"):
        workflow_times.read_benchmarks(tmp_path, workflow_times.benchmark_patterns(RULES_DIR))


def test_main_in_an_output_root_without_workflow_folder(tmp_path, monkeypatch, capsys):
    """A paper run keeps results/benchmarks/ and .snakemake/log/ under runs/paper/, which holds no
    workflow/ folder: the rules come from the script's own checkout."""
    (tmp_path / ".snakemake" / "log").mkdir(parents=True)
    (tmp_path / ".snakemake" / "log" / "run.snakemake.log").write_text(LOG)
    bench(tmp_path, "seed0/generate_test_dpo.tsv", 30.0, 400.0, 29.0)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["workflow_times.py"])
    workflow_times.main()
    out = capsys.readouterr().out
    assert "whole run: 2.0 min" in out and re.search(r"generate_test\s+1\s+30", out)


def test_every_benchmark_file_of_the_workflow_finds_its_one_rule():
    # the workflow's own benchmark directives: a bucket-key folder and the more specific of two
    # fitting paths (features_test_{source} is not features_{source}_{split})
    rules_dir = Path(__file__).resolve().parents[1] / "workflow" / "rules"
    patterns = workflow_times.benchmark_patterns(rules_dir)

    def rule_of(rel):
        fits = [(rule, p) for rule, p in patterns if p.fullmatch(rel)]
        return workflow_times.most_specific(fits)

    assert rule_of("results/benchmarks/seed0/features_test_hdpo.tsv") == ["features_test"]
    assert rule_of("results/benchmarks/features_test_constant.tsv") == ["features_test"]
    assert rule_of("results/benchmarks/seed1/features_sft_train_samples.tsv") == ["features"]
    assert rule_of("results/benchmarks/build_references.tsv") == ["build_references"]
    assert rule_of("results/benchmarks/bucket_key/language_track/build_references.tsv") == [
        "build_references"
    ]
    assert rule_of("results/benchmarks/seed2/bucket_key/language_track/train_critic.tsv") == ["train_critic"]
