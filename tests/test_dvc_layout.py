"""The DVC layout on a scratch git+DVC repository (issue 25.1): the real data.dvc, .gitignore and
dvc.yaml, with the stage's `snakemake --cores all` replaced by a tiny fake workflow that runs the
real embedded fetch (default seed and count, pin checked) and writes one file per stage output.

Checked: `dvc repro` as the first command of a fresh clone, `dvc status` clean after it and after
a second workflow run, data.dvc never rewritten, user files in data/ untouched, a hand edit of the
fetched corpus flagged by `dvc status` and refused by the fetch, and docs/operations.md's "A remote"
recipe with a local directory remote (push on one clone, pull + fetch + clean status on another).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import REPO

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
CLEAN = "Data and pipelines are up to date."

FAKE_WORKFLOW = '''\
"""Stands in for `snakemake --cores all`: the real fetch rule's call, then the stage outputs,
each written only when missing (Snakemake reruns nothing when nothing changed)."""
import json
from pathlib import Path

import yaml

from polyalign.config.schema import fill_defaults
from polyalign.data.fetch_embedded import DATA_DIR, MANIFEST, fetch_embedded, previous_files, workflow_pins

config = fill_defaults(yaml.safe_load(open("config/config.yaml")))
manifest = fetch_embedded(
    DATA_DIR, config["fetch"]["chitchat_conversations"], config["seed"],
    pins=workflow_pins(), previous=previous_files(MANIFEST),
)
outputs = {
    MANIFEST: json.dumps(manifest["files_sha256"], sort_keys=True),
    "results/corpus/train.jsonl": '{"q": "hi", "a": "hello"}\\n',
    "results/plots/training/base.csv": "step,loss\\n1,2.0\\n",
    "results/plots/per_seed_metrics.csv": "run,aggregate,qa_f1,bng_macro\\nsft,0.5,0.4,0.3\\n",
    "paper_figures/table2_main_benchmark.md": "| system | Aggregate |\\n",
    "results/metrics/aggregate.json": '{"sft": 0.5}\\n',
}
for path, text in outputs.items():
    if not Path(path).exists():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
'''


def run(cwd, *cmd, check=True):
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO / "src"),
        "DVC_NO_ANALYTICS": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, f"{cmd}: {result.stdout}{result.stderr}"
    return result


def dvc_status(cwd) -> str:
    return run(cwd, "dvc", "status").stdout


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    """The project as committed: data.dvc, dvc.yaml, and dvc.lock with the results of one
    `dvc repro` (committed together, as docs/operations.md's policy says)."""
    root = tmp_path_factory.mktemp("origin")
    run(root, "git", "init", "-q")
    run(root, "dvc", "init", "-q")
    for name in ("data.dvc", ".gitignore", "pyproject.toml"):
        shutil.copy(REPO / name, root / name)
    shutil.copy(REPO / ".dvc" / "config", root / ".dvc" / "config")
    (root / "config").mkdir()
    shutil.copy(REPO / "config" / "config.yaml", root / "config" / "config.yaml")
    (root / "src").mkdir()
    (root / "src" / "README").write_text("the library (a stage dependency)\n")
    # the schema is a params file of the stage: DVC reads it, so it must be the real one
    schema = Path("src/polyalign/config/config.schema.yaml")
    (root / schema).parent.mkdir(parents=True)
    shutil.copy(REPO / schema, root / schema)
    (root / "workflow").mkdir()
    (root / "workflow" / "fake_workflow.py").write_text(FAKE_WORKFLOW)
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())
    stages["stages"]["workflow"]["cmd"] = "python workflow/fake_workflow.py"
    (root / "dvc.yaml").write_text(yaml.safe_dump(stages, sort_keys=False))
    run(root, "dvc", "repro")
    run(root, "git", "add", "-A")
    run(root, "git", "commit", "-qm", "results of one dvc repro")
    assert dvc_status(root).strip() == CLEAN
    return root


def clone(origin, dest):
    run(origin.parent, "git", "clone", "-q", str(origin), str(dest))
    return dest


def test_fresh_clone_repro_first_status_clean_user_files_kept(origin, tmp_path):
    repo = clone(origin, tmp_path / "clone")
    mine = repo / "data" / "paper" / "eli5_category" / "train.jsonl"
    mine.parent.mkdir(parents=True)
    mine.write_text("user data\n")
    run(repo, "dvc", "repro")  # the first command
    assert dvc_status(repo).strip() == CLEAN
    assert (repo / "data" / "chatterbot_corpus" / "english" / "ai.yml").exists()
    run(repo, "python", "workflow/fake_workflow.py")  # a plain workflow run after it
    assert dvc_status(repo).strip() == CLEAN
    # data.dvc and dvc.lock unchanged; git sees only the user's (not yet tracked) corpus
    untracked = run(repo, "git", "status", "--porcelain", "--untracked-files=all").stdout
    assert untracked == "?? data/paper/eli5_category/train.jsonl\n"
    assert (repo / "data.dvc").read_bytes() == (REPO / "data.dvc").read_bytes()
    assert mine.read_text() == "user data\n"


def test_a_hand_edit_is_flagged_and_never_repinned(origin, tmp_path):
    repo = clone(origin, tmp_path / "clone")
    run(repo, "dvc", "repro")
    ai = repo / "data" / "chatterbot_corpus" / "english" / "ai.yml"
    ai.write_bytes(ai.read_bytes() + b"- - my question\n  - my answer\n")
    status = dvc_status(repo)
    assert "data.dvc" in status and "modified:" in status and "data/chatterbot_corpus" in status
    run(repo, "dvc", "repro")
    fetch = run(repo, "python", "workflow/fake_workflow.py", check=False)
    assert fetch.returncode != 0 and "data/chatterbot_corpus/english/ai.yml (changed)" in fetch.stderr
    assert ai.read_bytes().endswith(b"my answer\n")
    assert run(repo, "git", "status", "--porcelain").stdout == ""  # data.dvc not re-pinned
    assert "modified:" in dvc_status(repo)


def test_the_readme_remote_recipe(origin, tmp_path):
    """docs/operations.md "A remote", command for command, with a local directory as the remote."""
    a = clone(origin, tmp_path / "a")
    run(a, "dvc", "repro")
    run(a, "dvc", "remote", "add", "-d", "storage", str(tmp_path / "remote"))
    run(a, "git", "add", ".dvc/config")
    run(a, "git", "commit", "-qm", "DVC remote")
    # docs/data.md: a paper corpus tracked with its own .dvc file
    paper = a / "data" / "paper" / "eli5_category"
    paper.mkdir(parents=True)
    (paper / "train.jsonl").write_text('{"q": "why?", "a": "because"}\n')
    run(a, "dvc", "add", "data/paper/eli5_category")
    run(a, "git", "add", "data/paper/eli5_category.dvc", "data/paper/.gitignore")
    run(a, "git", "commit", "-qm", "pin ELI5")
    assert run(a, "git", "status", "--porcelain").stdout == ""
    run(a, "dvc", "push")

    b = clone(a, tmp_path / "b")
    run(b, "dvc", "pull")
    assert (b / "results" / "corpus" / "train.jsonl").exists()
    assert (b / "results" / "plots" / "per_seed_metrics.csv").exists()
    assert (b / "data" / "paper" / "eli5_category" / "train.jsonl").read_text().startswith('{"q": "why?"')
    before = dvc_status(b)  # only the raw corpus is missing: it is not pushed
    assert "data.dvc" in before and "dvc.yaml" not in before
    run(b, "python", "-m", "polyalign.data.fetch")
    assert dvc_status(b).strip() == CLEAN
