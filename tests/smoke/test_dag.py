"""The workflow's job graph (dry runs: nothing executes)."""
import re
import subprocess
import sys

import pytest

from ..conftest import REPO

pytestmark = pytest.mark.slow  # each dry run builds the whole DAG (~10 s)


def planned_jobs(*targets: str) -> dict[str, int]:
    """{rule: job count} of a forced dry run of `targets` on the embedded default config."""
    cmd = [sys.executable, "-m", "snakemake", "-n", "--forceall", *targets]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    stats = (proc.stdout + proc.stderr).split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


def test_plain_dpo_pairs_do_not_wait_for_the_critic():
    dpo = planned_jobs("results/pairs/dpo.jsonl")
    assert "train_critic" not in dpo and dpo["generate_train_samples"] == 1
    hdpo = planned_jobs("results/pairs/hdpo.jsonl")
    assert hdpo["train_critic"] == 1
