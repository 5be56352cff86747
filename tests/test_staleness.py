"""Staleness: a rule reruns when a raw corpus file it reads changes, and when the library code
its script runs changes, and only then (checked with `snakemake -n` on a copy of the workflow)."""

import os
import shutil
import subprocess
import sys

import pytest

from polyalign.provenance import reachable_modules, source_digest

from .conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A copy of the repository's workflow, config and library in which the micro config's corpus
    has been fetched and built (the first two rules only)."""
    root = tmp_path_factory.mktemp("repo")
    for part in ("workflow", "config", "src", "tests/smoke"):
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "environment.yml", root)  # the rules' conda env, recorded in the metadata
    result = snakemake(root, "--cores", "1", "results/corpus/records.jsonl")
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def snakemake(root, *args):
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--configfile", "tests/smoke/config.yaml", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def planned(root) -> str:
    result = snakemake(root, "-n", "results/corpus/records.jsonl")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_nothing_to_do_after_a_build(built):
    assert "Nothing to be done" in planned(built)


def test_editing_a_raw_corpus_file_reruns_the_build(built):
    path = built / "data" / "chatterbot_corpus" / "english" / "ai.yml"
    original, stat = path.read_bytes(), path.stat()
    try:
        path.write_bytes(original + b"\n# edited\n")
        out = planned(built)
        assert (
            "rule build_corpus" in out
            and "fetch_embedded_corpus" not in out.split("Job stats")[0].split("rule build_corpus")[0]
        )
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # exactly as the fetch left it


def test_editing_library_code_reruns_exactly_the_rules_that_use_it(built):
    library = built / "src" / "polyalign"
    code, comment = b"\nEDITED_FOR_A_TEST = 1\n", b"\n# a comment\n"
    for rel, edit, reruns in (
        ("train/sft.py", code, False),  # not run by the corpus build
        ("io.py", comment, False),  # run by it, but a comment changes nothing Python executes
        ("data/build.py", code, True),
        ("data/embedded.py", code, True),  # a loader, imported by the corpus registry
    ):
        path = library / rel
        original = path.read_bytes()
        try:
            path.write_bytes(original + edit)
            out = planned(built)
            assert ("rule build_corpus" in out) is reruns, f"{rel}: {out}"
        finally:
            path.write_bytes(original)
    assert "Nothing to be done" in planned(built)


def test_the_digest_follows_imports_and_only_them(tmp_path):
    shutil.copytree(REPO / "src" / "polyalign", tmp_path / "polyalign")
    script = REPO / "workflow" / "scripts" / "build_corpus.py"
    modules = reachable_modules(script, tmp_path)
    assert "polyalign.data.build" in modules and "polyalign.data" in modules and "polyalign" in modules
    assert "polyalign.train.sft" not in modules
    before = source_digest(script, tmp_path)
    (tmp_path / "polyalign" / "train" / "sft.py").write_text("EDITED = 1\n")
    assert source_digest(script, tmp_path) == before
    with open(tmp_path / "polyalign" / "data" / "build.py", "a") as f:
        f.write("\nEDITED = 1\n")
    assert source_digest(script, tmp_path) != before


def test_a_rerun_fetch_keeps_user_edits_and_names_them(built):
    """Issue 26.1 (class: fetch deletes user edits), end to end. Snakemake deleted the fetch's
    declared outputs before the job, a user's edit with them, and the fetch then replaced the
    folder, so the next rule failed with a misleading "missing ... filesystem latency" error. The
    outputs are update() now: the rerun fetch fails naming the edited and the added file, and
    both are kept. Last in this module: it leaves the fixture as it found it."""
    english = built / "data" / "chatterbot_corpus" / "english"
    ai, mine = english / "ai.yml", english / "mine.yml"
    original, stat = ai.read_bytes(), ai.stat()
    try:
        ai.write_bytes(original + b"- - my question\n  - my answer\n")
        mine.write_text("categories: [mine]\nconversations: []\n")
        result = snakemake(
            built, "--cores", "1", "--forcerun", "fetch_embedded_corpus", "results/corpus/records.jsonl"
        )
        out = result.stdout + result.stderr
        assert result.returncode != 0
        assert "data/chatterbot_corpus/english/ai.yml (changed)" in out
        assert "data/chatterbot_corpus/english/mine.yml (added)" in out
        assert "latency" not in out
        assert ai.read_bytes().endswith(b"my answer\n") and mine.exists()
    finally:
        mine.unlink(missing_ok=True)
        ai.write_bytes(original)
        os.utime(ai, ns=(stat.st_atime_ns, stat.st_mtime_ns))
