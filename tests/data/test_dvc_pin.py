"""The read-only pin check of the embedded fetch against data.dvc (polyalign.data.dvc_pin)."""

import hashlib
import json

import pytest
import yaml

from polyalign.data.dvc_pin import DataPinMismatch, check_pin, dvc_dir_md5, pinned_hashes
from polyalign.data.fetch_embedded import workflow_pins


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


def _pin_file(root, outs):
    text = "outs:\n"
    for path, md5 in outs.items():
        text += f"- path: {path}\n  cache: false\n  md5: {md5}\n  hash: md5\n"
    (root / "data.dvc").write_text(text)


def test_check_pin_matches_skips_and_names_a_mismatch(tmp_path):
    _tree(tmp_path / "data" / "a", {"x": "hi\n"})
    _tree(tmp_path / "data" / "b", {"y": "yo\n"})
    _pin_file(tmp_path, {"data/a": "08e38f389cb309b8dc5fa02670968800.dir"})
    pins = pinned_hashes(tmp_path / "data.dvc")
    assert pins == {"data/a": "08e38f389cb309b8dc5fa02670968800.dir"}
    folders = {"data/a": tmp_path / "data" / "a", "data/b": tmp_path / "data" / "b"}
    assert check_pin(folders, pins) == ["data/a"]  # b has no pin: skipped

    before = (tmp_path / "data.dvc").read_bytes()
    (tmp_path / "data" / "a" / "x").write_text("edited\n")
    with pytest.raises(DataPinMismatch, match="data/a: .*data.dvc pins 08e38f.*dvc commit -f data.dvc"):
        check_pin(folders, pins)
    assert (tmp_path / "data" / "a" / "x").read_text() == "edited\n"  # read-only: nothing rewritten
    assert (tmp_path / "data.dvc").read_bytes() == before  # never re-pinned


def test_no_pin_file_means_nothing_checked(tmp_path):
    _tree(tmp_path / "data" / "a", {"x": "hi\n"})
    assert pinned_hashes(tmp_path / "data.dvc") == {}
    assert check_pin({"data/a": tmp_path / "data" / "a"}, {}) == []


def test_the_repository_pins_what_the_default_fetch_writes(tmp_path):
    """data.dvc is the one pin of the embedded corpus: its hashes are those the default config's
    fetch writes."""
    from polyalign.config.schema import fill_defaults
    from polyalign.data.fetch_embedded import fetch_embedded

    from ..conftest import REPO

    config = fill_defaults(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    pins = workflow_pins(REPO / "data.dvc")
    assert sorted(pins) == ["chatterbot_corpus", "chitchat_dataset"]
    count, seed = config["fetch"]["chitchat_conversations"], config["seed"]
    manifest = fetch_embedded(tmp_path / "data", chitchat_conversations=count, seed=seed, pins=pins)
    assert manifest["pin_checked"] == ["chatterbot_corpus", "chitchat_dataset"]
