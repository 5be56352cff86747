"""`make test` runs the suite on one pytest-xdist worker per core, grouped by tests/conftest.py
(`xdist_group_of`). If pytest and pytest-xdist stop agreeing on how a group is tagged, xdist falls
back to spreading single tests, silently: every worker then rebuilds the shared fixtures (the
micro workflow run twice). This runs two small test files on two workers and checks each ran on
one worker only."""

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from .conftest import REPO, xdist_group_of


def test_each_group_runs_on_one_worker():
    files = ["tests/test_text.py", "tests/test_io.py"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v", "-p", "no:cacheprovider",
         "-m", "not slow", *files],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    workers = defaultdict(set)
    for worker, path in re.findall(r"^\[(gw\d+)\] .*? (tests/\w+\.py)::", result.stdout, flags=re.M):
        workers[path].add(worker)
    assert set(workers) == set(files), result.stdout[-3000:]
    assert all(len(w) == 1 for w in workers.values()), dict(workers)


def test_the_micro_workflow_tests_share_one_group():
    tests = Path(__file__).parent
    groups = {
        xdist_group_of(tests / f) for f in ("smoke/test_workflow.py", "reliability/test_kill_resume.py")
    }
    assert groups == {"micro"}
    assert xdist_group_of(tests / "test_text.py") == "test_text.py"
