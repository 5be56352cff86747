import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from polyalign.io import InputError, give_umask_mode, read_jsonl, write_jsonl, write_text


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    def rows():
        yield {"a": 1}
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_jsonl(tmp_path / "out.jsonl", rows())
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces_whole_file(tmp_path):
    write_text(tmp_path / "f.txt", "old")
    write_text(tmp_path / "f.txt", "new")
    assert (tmp_path / "f.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_jsonl_errors_name_file_and_line(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n\n{"a": \n')
    with pytest.raises(InputError, match=r"x\.jsonl:3: malformed JSON line"):
        read_jsonl(p)
    p.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(InputError, match=r"x\.jsonl:2: expected a JSON object"):
        read_jsonl(p)


def test_rule_logging_writes_the_log_and_leaves_no_handler_on_the_closed_file(tmp_path):
    import logging

    from polyalign.workflow.io import rule_logging

    root = logging.getLogger()
    before = root.handlers[:]
    with rule_logging(str(tmp_path / "logs" / "rule.log")) as log:
        log.info("inside the rule")
        print("to stdout")
    assert root.handlers == before
    logging.getLogger("polyalign").info("after the rule")  # must not hit the closed file
    text = (tmp_path / "logs" / "rule.log").read_text()
    assert "inside the rule" in text and "to stdout" in text and "finished in" in text
    assert "after the rule" not in text


def test_rule_logging_limits_the_blas_threads_to_the_rule_threads(tmp_path):
    from threadpoolctl import threadpool_info, threadpool_limits

    from polyalign.workflow.io import rule_logging

    def blas_threads():
        return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}

    import numpy  # noqa: F401  (loads the BLAS that the limit applies to)

    with threadpool_limits(2):
        assert blas_threads() == {2}
        with rule_logging(str(tmp_path / "rule.log"), threads=1):
            assert blas_threads() == {1}
        assert blas_threads() == {2}


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_written_table_has_the_users_umask_mode(tmp_path, umask, mode):
    """A collaborator in the group reads what the workflow writes: 0666 minus the umask, as
    open() gives, never tempfile's private 0600."""
    old = os.umask(umask)
    try:
        write_text(tmp_path / "table.md", "| a |\n")
        write_jsonl(tmp_path / "rows.jsonl", [{"a": 1}])
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "table.md").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "rows.jsonl").stat().st_mode) == mode


def test_tempfile_folder_gets_the_users_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        folder = Path(tempfile.mkdtemp(dir=tmp_path))
        give_umask_mode(folder)
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755


FAULTS_OF_A_STEP_LOOP = """
import resource, sys
import numpy as np
if sys.argv[1] == "reuse":
    from polyalign.workflow.io import reuse_freed_memory
    assert reuse_freed_memory()
sizes = [3_000_000 - 100_000 * (i % 7) for i in range(40)]  # batches of varying length
for n in sizes[:3]:  # warm up: the first rounds map the memory either way
    a = np.ones(n); b = np.ones(n); del a, b
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for n in sizes:  # a training step's pattern: ~20 MB tensors freed and allocated again
    a = np.ones(n); b = np.ones(n); del a, b
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_step_tensors_are_reused_instead_of_faulted_in_again():
    def faults(mode: str) -> int:
        out = subprocess.run(
            [sys.executable, "-c", FAULTS_OF_A_STEP_LOOP, mode], capture_output=True, text=True, check=True
        )
        return int(out.stdout)

    # by default glibc hands some of the freed blocks back to the kernel (trimmed heap top, blocks
    # above its adaptive mmap threshold) and they are faulted in again (measured 8,800 pages);
    # kept in the heap, the loop touches memory it already has (measured 0)
    assert faults("default") > 4_000
    assert faults("reuse") < 400
