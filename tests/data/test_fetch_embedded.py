import json

import pytest

from polyalign.data import fetch_embedded as fe


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
    """Issue 12: a fetch deleted data/paper/. User files beside the fetched folders survive, a
    stale file inside a fetched folder is replaced along with it, and a refetch is identical."""
    data = tmp_path / "data"
    sentinel = data / "paper" / "eli5_category" / "train.jsonl"
    sentinel.parent.mkdir(parents=True)
    sentinel.write_text("user data\n")
    loose = data / "notes.txt"
    loose.write_text("mine\n")
    stale = data / "chatterbot_corpus" / "english" / "removed_upstream.yml"
    stale.parent.mkdir(parents=True)
    stale.write_text("old\n")

    first = fe.fetch_embedded(data, chitchat_conversations=5, seed=42)
    assert sentinel.read_text() == "user data\n" and loose.read_text() == "mine\n"
    assert not stale.exists()
    assert sorted(p.name for p in data.iterdir()) == [
        "chatterbot_corpus",
        "chitchat_dataset",
        "notes.txt",
        "paper",
    ]
    second = fe.fetch_embedded(data, chitchat_conversations=5, seed=42)
    assert second == first and sentinel.read_text() == "user data\n"


def test_wrong_package_version_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(fe.importlib.metadata, "version", lambda name: "0.0.1")
    with pytest.raises(fe.FetchError, match="0.0.1 is installed"):
        fe.fetch_embedded(tmp_path / "data", chitchat_conversations=5, seed=42)
