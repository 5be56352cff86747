import pytest

from polyalign.io import InputError, read_jsonl, write_jsonl, write_text


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

    from polyalign.workflow_io import rule_logging

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

    from polyalign.workflow_io import rule_logging

    def blas_threads():
        return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}

    import numpy  # noqa: F401  (loads the BLAS that the limit applies to)

    with threadpool_limits(2):
        assert blas_threads() == {2}
        with rule_logging(str(tmp_path / "rule.log"), threads=1):
            assert blas_threads() == {1}
        assert blas_threads() == {2}
