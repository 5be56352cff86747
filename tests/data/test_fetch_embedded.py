import json
import os
from pathlib import Path

import pytest

from polyalign.data import fetch as fetch_cli
from polyalign.data import fetch_embedded as fe
from polyalign.data.dvc_pin import DataPinMismatch, dvc_dir_md5


def test_fetch_writes_raw_layout_and_returns_manifest(tmp_path):
    out = tmp_path / "data"
    manifest = fe.fetch_embedded(out, chitchat_conversations=5, seed=42)
    assert len(list((out / "chatterbot_corpus" / "english").glob("*.yml"))) == 21
    assert len(list((out / "chatterbot_corpus" / "chinese").glob("*.yml"))) == 17
    subset = json.loads((out / "chitchat_dataset" / "dataset.json").read_text())
    assert sorted(subset) == manifest["chitchat"]["selected_ids"] and len(subset) == 5
    assert manifest["packages"] == {"chatterbot-corpus": "1.3.3", "chitchat-dataset": "0.9.0"}
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == sorted(fe.embedded_files()) == sorted(manifest["files_sha256"])
    # deterministic: a second fetch writes the same bytes
    again = fe.fetch_embedded(tmp_path / "again", chitchat_conversations=5, seed=42)
    assert again["files_sha256"] == manifest["files_sha256"]


def test_selection_is_seeded_and_order_independent():
    ids = [f"c{i}" for i in range(50)]
    assert fe.select_conversations(ids, 5, 1) == fe.select_conversations(ids[::-1], 5, 1)
    assert fe.select_conversations(ids, 5, 1) != fe.select_conversations(ids, 5, 2)
    with pytest.raises(fe.FetchError, match="asked for 51"):
        fe.select_conversations(ids, 51, 1)


def test_tampered_file_fails_and_leaves_nothing(tmp_path, monkeypatch):
    key = "chatterbot_corpus/data/english/ai.yml"
    monkeypatch.setitem(fe.PINS, key, "sha256=not-the-real-hash")
    with pytest.raises(fe.FetchError, match="ai.yml: sha256 differs"):
        fe.fetch_embedded(tmp_path / "data", chitchat_conversations=5, seed=42)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_fetch_touches_only_its_own_subfolders(tmp_path):
    """Issue 12: a fetch deleted data/paper/. User files beside the fetched folders survive, and a
    refetch is identical and leaves the identical folders untouched (mtimes kept)."""
    data = tmp_path / "data"
    sentinel = data / "paper" / "eli5_category" / "train.jsonl"
    sentinel.parent.mkdir(parents=True)
    sentinel.write_text("user data\n")
    loose = data / "notes.txt"
    loose.write_text("mine\n")

    first = fe.fetch_embedded(data, chitchat_conversations=5, seed=42)
    assert sentinel.read_text() == "user data\n" and loose.read_text() == "mine\n"
    assert sorted(p.name for p in data.iterdir()) == [
        "chatterbot_corpus",
        "chitchat_dataset",
        "notes.txt",
        "paper",
    ]
    ai = data / "chatterbot_corpus" / "english" / "ai.yml"
    os.utime(ai, ns=(1, 1))
    second = fe.fetch_embedded(data, chitchat_conversations=5, seed=42, previous=first["files_sha256"])
    assert second == first and sentinel.read_text() == "user data\n"
    assert ai.stat().st_mtime_ns == 1  # not rewritten


def _edit_and_add(data):
    ai = data / "chatterbot_corpus" / "english" / "ai.yml"
    ai.write_bytes(ai.read_bytes() + b"- - my question\n  - my answer\n")
    (data / "chatterbot_corpus" / "english" / "mine.yml").write_text("conversations: []\n")
    return ai.read_bytes()


def test_user_edits_stop_the_fetch_naming_each_file(tmp_path):
    """Issue 26.1 (class: fetch deletes user edits): a refetch after a config change replaced the
    folders wholesale, deleting an edited and an added file without a word. Now it refuses,
    naming both, and changes nothing under data/."""
    data = tmp_path / "data"
    first = fe.fetch_embedded(data, chitchat_conversations=5, seed=42)
    edited = _edit_and_add(data)
    chitchat = (data / "chitchat_dataset" / "dataset.json").read_bytes()
    with pytest.raises(fe.FetchError) as error:
        fe.fetch_embedded(data, chitchat_conversations=6, seed=42, previous=first["files_sha256"])
    message = str(error.value)
    assert f"{data.as_posix()}/chatterbot_corpus/english/ai.yml (changed)" in message
    assert f"{data.as_posix()}/chatterbot_corpus/english/mine.yml (added)" in message
    assert "chitchat_dataset" not in message.split("Nothing was changed")[0]
    assert fe.RESTORE_COMMAND in message
    assert (data / "chatterbot_corpus" / "english" / "ai.yml").read_bytes() == edited
    assert (data / "chatterbot_corpus" / "english" / "mine.yml").exists()
    assert (data / "chitchat_dataset" / "dataset.json").read_bytes() == chitchat  # nothing written
    assert sorted(p.name for p in data.iterdir()) == ["chatterbot_corpus", "chitchat_dataset"]


def test_what_the_fetch_wrote_is_replaced_after_a_config_change(tmp_path):
    """A file is the fetch's when it matches the last manifest, or its folder matches the pin."""
    data = tmp_path / "data"
    dataset = data / "chitchat_dataset" / "dataset.json"
    fe.fetch_embedded(data, chitchat_conversations=5, seed=42)
    pins = {name: dvc_dir_md5(data / name) for name in fe.OWN_SUBFOLDERS}
    # no manifest, check off (a count change), but the folder is the pinned one: replaced
    six = fe.fetch_embedded(data, chitchat_conversations=6, seed=42, pins=pins, check_dvc_pin=False)
    assert len(json.loads(dataset.read_text())) == 6
    # the 6-conversation file is known to neither the (absent) manifest nor the pin: refused
    with pytest.raises(fe.FetchError, match=r"chitchat_dataset/dataset.json \(changed\)"):
        fe.fetch_embedded(data, chitchat_conversations=5, seed=42, pins=pins, check_dvc_pin=False)
    assert len(json.loads(dataset.read_text())) == 6
    # the manifest of the fetch that wrote it makes it the fetch's own
    fe.fetch_embedded(data, chitchat_conversations=5, seed=42, previous=six["files_sha256"])
    assert len(json.loads(dataset.read_text())) == 5
    # with the check on, a fresh build that differs from its pin changes nothing
    with pytest.raises(DataPinMismatch, match="chitchat_dataset: .*data.dvc pins"):
        fe.fetch_embedded(data, chitchat_conversations=6, seed=42, pins=pins)
    assert len(json.loads(dataset.read_text())) == 5
    dataset.unlink()  # a missing file is written back: nothing of the user's is lost
    assert fe.fetch_embedded(data, chitchat_conversations=5, seed=42, pins=pins)["pin_checked"] == list(pins)
    assert dvc_dir_md5(data / "chitchat_dataset") == pins["chitchat_dataset"]


def test_restore_pristine_moves_the_user_version_aside_first(tmp_path):
    data = tmp_path / "data"
    first = fe.fetch_embedded(data, chitchat_conversations=5, seed=42)
    edited = _edit_and_add(data)
    again = fe.fetch_embedded(
        data, chitchat_conversations=5, seed=42, previous=first["files_sha256"], restore_pristine=True
    )
    aside = Path(again["moved_aside"]["chatterbot_corpus"])
    assert list(again["moved_aside"]) == ["chatterbot_corpus"]  # chitchat was untouched
    assert aside.parent == data and aside.name.startswith("chatterbot_corpus.user-")
    assert (aside / "english" / "ai.yml").read_bytes() == edited
    assert (aside / "english" / "mine.yml").exists()
    assert not (data / "chatterbot_corpus" / "english" / "mine.yml").exists()
    written = {
        p.relative_to(data).as_posix()
        for p in data.rglob("*")
        if p.is_file() and p.parts[len(data.parts)] in fe.OWN_SUBFOLDERS
    }
    assert written == set(first["files_sha256"])
    assert again["files_sha256"] == first["files_sha256"]


def test_restore_command_reads_the_config_and_reports_where(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(
        "seed: 42\nfetch:\n  chitchat_conversations: 5\n  check_dvc_pin: false\n"
    )
    first = fe.fetch_embedded("data", chitchat_conversations=5, seed=42)
    fe_manifest = tmp_path / fe.MANIFEST
    fe_manifest.parent.mkdir(parents=True)
    fe_manifest.write_text(json.dumps(first))
    _edit_and_add(tmp_path / "data")
    with pytest.raises(fe.FetchError, match="mine.yml \\(added\\)"):
        fetch_cli.main([])
    assert fetch_cli.main(["--restore-pristine"]) == 0
    out = capsys.readouterr().out
    assert "moved your version of data/chatterbot_corpus aside to data/chatterbot_corpus.user-" in out
    assert fe.user_changes(Path("data"), "chatterbot_corpus", first["files_sha256"], {}, None) == []


def test_wrong_package_version_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(fe.importlib.metadata, "version", lambda name: "0.0.1")
    with pytest.raises(fe.FetchError, match="0.0.1 is installed"):
        fe.fetch_embedded(tmp_path / "data", chitchat_conversations=5, seed=42)
