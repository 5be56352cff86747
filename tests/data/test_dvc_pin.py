"""The read-only DVC pin check of the embedded fetch (polyalign.data.dvc_pin)."""

import hashlib
import json

import pytest

from polyalign.data.dvc_pin import DataPinMismatch, check_pin, dvc_dir_md5, pinned_hashes


def _tree(root, files):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_dir_hash_is_dvcs(tmp_path):
    _tree(tmp_path / "a", {"x": "hi\n"})
    assert dvc_dir_md5(tmp_path / "a") == "08e38f389cb309b8dc5fa02670968800.dir"  # from `dvc add`
    _tree(tmp_path / "b", {"z/2.txt": "two", "1.txt": "one"})
    entries = [
        {"md5": hashlib.md5(b"one").hexdigest(), "relpath": "1.txt"},
        {"md5": hashlib.md5(b"two").hexdigest(), "relpath": "z/2.txt"},
    ]
    expected = hashlib.md5(json.dumps(entries, sort_keys=True).encode()).hexdigest() + ".dir"
    assert dvc_dir_md5(tmp_path / "b") == expected


def _lock(root, outs):
    text = "schema: '2.0'\nstages:\n  workflow:\n    cmd: snakemake --cores all\n    outs:\n"
    for path, md5 in outs.items():
        text += f"    - path: {path}\n      hash: md5\n      md5: {md5}\n"
    (root / "dvc.lock").write_text(text)


def test_check_pin_matches_skips_and_names_a_mismatch(tmp_path):
    _tree(tmp_path / "data" / "a", {"x": "hi\n"})
    _tree(tmp_path / "data" / "b", {"y": "yo\n"})
    _lock(tmp_path, {"data/a": "08e38f389cb309b8dc5fa02670968800.dir"})
    assert pinned_hashes(tmp_path / "dvc.lock") == {"data/a": "08e38f389cb309b8dc5fa02670968800.dir"}
    assert check_pin(["data/a", "data/b"], root=tmp_path) == ["data/a"]  # b has no pin: skipped

    (tmp_path / "data" / "a" / "x").write_text("edited\n")
    with pytest.raises(DataPinMismatch, match="data/a: .*dvc.lock pins 08e38f"):
        check_pin(["data/a", "data/b"], root=tmp_path)
    assert (tmp_path / "data" / "a" / "x").read_text() == "edited\n"  # read-only: nothing rewritten


def test_no_lock_means_nothing_checked(tmp_path):
    _tree(tmp_path / "data" / "a", {"x": "hi\n"})
    assert pinned_hashes(tmp_path / "dvc.lock") == {}
    assert check_pin(["data/a"], root=tmp_path) == []
