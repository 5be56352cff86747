"""Runs the real Snakemake workflow end to end on the micro config, in a scratch copy."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from polyalign.systems import label, model_of, systems

from ..conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    work = tmp_path_factory.mktemp("workflow")
    shutil.copytree(REPO / "workflow", work / "workflow")
    shutil.copytree(REPO / "config", work / "config")
    shutil.copy(REPO / "tests" / "smoke" / "config.yaml", work / "config" / "micro.yaml")
    sentinel = work / "data" / "paper" / "eli5_category" / "train.jsonl"  # a user's corpus copy
    sentinel.parent.mkdir(parents=True)
    sentinel.write_text('{"user": "data"}\n')
    return work


def snakemake(work: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "config/micro.yaml", *args]
    return subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=1500)


@pytest.fixture(scope="module")
def first_run(workdir):
    proc = snakemake(workdir)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc


SYSTEMS = systems(oracle_row=True)  # micro.yaml: oracle_row
TABLES = ["table1_corpus_inventory", "table2_main_benchmark", "table_per_bucket"]
FIGURES = ["figure1_tsne", "figure2_pipeline", "figure_bucket_inventory", "figure_bng_heatmap", "figure_nuf_frontier",
           "figure_length_distributions", "figure_critic_scores"]


def test_workflow_produces_every_stage_and_paper_item(workdir, first_run):
    expected = ["results/corpus/train.jsonl", "results/corpus/test.jsonl", "results/corpus/bucket_stats.json",
                "results/references/references.json", "results/critic/report.json", "results/metrics/summary.json",
                "paper_figures/replication.md"]
    expected += [f"results/generations/{s}/test.jsonl" for s in SYSTEMS]
    expected += [f"results/metrics/{s}.json" for s in SYSTEMS]
    expected += [f"results/models/{model_of(s)}/train_summary.json" for s in SYSTEMS]
    expected += [f"paper_figures/{t}.{ext}" for t in TABLES for ext in ("md", "tex")]
    expected += [f"paper_figures/{f}.{ext}" for f in FIGURES for ext in ("png", "pdf")]
    expected += ["results/corpus/fetch_manifest.json", "results/metrics/aggregate.json",
                 "results/plots/per_seed_metrics.csv", "results/plots/training/base.csv",
                 "results/pipeline/rulegraph.dot"]
    for rel in expected:
        assert (workdir / rel).stat().st_size > 0, rel
    table1 = (workdir / "paper_figures/table1_corpus_inventory.md").read_text()
    assert "| chitchat" in table1 and "| chatterbot" in table1
    table2 = (workdir / "paper_figures/table2_main_benchmark.md").read_text()
    for system in SYSTEMS:
        assert f"| {label(system)} " in table2
    assert "(en)" in table2 and "(zh)" in table2


def test_oracle_row_uses_each_records_gold_length_bin(workdir, first_run):
    gold = {json.loads(line)["id"]: json.loads(line)["length_bin"]
            for line in (workdir / "results/corpus/test.jsonl").open()}
    rows = [json.loads(line) for line in (workdir / "results/generations/bucket_sft_gold/test.jsonl").open()]
    assert rows and all(r["profile_length"] == "gold" and r["length_bin"] == gold[r["id"]] for r in rows)
    sampled = [json.loads(line) for line in (workdir / "results/generations/bucket_sft/test.jsonl").open()]
    assert all(r["profile_length"] == "sampled" for r in sampled)


def test_every_system_generated_the_full_test_split(workdir, first_run):
    test_ids = [json.loads(line)["id"] for line in (workdir / "results/corpus/test.jsonl").open()]
    for system in SYSTEMS:
        rows = [json.loads(line) for line in (workdir / f"results/generations/{system}/test.jsonl").open()]
        assert sorted(r["id"] for r in rows) == sorted(test_ids), system


def test_second_run_has_nothing_to_do(workdir, first_run):
    proc = snakemake(workdir)
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_fetch_kept_the_users_data_and_wrote_nothing_else_into_data(workdir, first_run):
    assert (workdir / "data/paper/eli5_category/train.jsonl").read_text() == '{"user": "data"}\n'
    assert sorted(p.name for p in (workdir / "data").iterdir()) == ["chatterbot_corpus", "chitchat_dataset", "paper"]


def test_an_edited_corpus_file_replans_the_corpus_build(workdir, first_run):
    edited = workdir / "data/chatterbot_corpus/english/ai.yml"
    before = edited.stat()
    try:
        os.utime(edited, (before.st_atime, before.st_mtime + 3600))
        proc = snakemake(workdir, "-n")
        assert proc.returncode == 0
        assert "build_corpus" in proc.stdout and "fetch_embedded_corpus" not in proc.stdout
    finally:
        os.utime(edited, (before.st_atime, before.st_mtime))


def test_dvc_views_are_compact(workdir, first_run):
    aggregate = json.loads((workdir / "results/metrics/aggregate.json").read_text())
    assert sorted(aggregate) == sorted(SYSTEMS)
    assert all(v is None or 0 <= v <= 1 for v in aggregate.values())
    lines = (workdir / "results/plots/per_seed_metrics.csv").read_text().splitlines()
    assert lines[0] == "run,system,seed,aggregate,qa_f1,bng_macro,g_mauve,nuf" and len(lines) > len(SYSTEMS)


def test_lint_is_clean(workdir):
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0 and "Congratulations" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_snakemake_report_bundles_tables_and_figures(workdir, first_run):
    proc = snakemake(workdir, "--report", "report.html")
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (workdir / "report.html").read_text(errors="replace")
    for name in ["table2_main_benchmark", "figure1_tsne", "replication"]:
        assert name in html
