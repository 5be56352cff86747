import json

import pytest

from polyalign.data import fetch_embedded as fe


def test_fetch_writes_raw_layout_and_manifest(tmp_path):
    out = tmp_path / "data"
    manifest = fe.fetch_embedded(out, chitchat_conversations=5, seed=42)
    assert len(list((out / "chatterbot_corpus" / "english").glob("*.yml"))) == 21
    assert len(list((out / "chatterbot_corpus" / "chinese").glob("*.yml"))) == 17
    subset = json.loads((out / "chitchat_dataset" / "dataset.json").read_text())
    assert sorted(subset) == manifest["chitchat"]["selected_ids"] and len(subset) == 5
    assert manifest["packages"] == {"chatterbot-corpus": "1.3.3", "chitchat-dataset": "0.9.0"}
    assert json.loads((out / "MANIFEST.json").read_text()) == manifest
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
    assert list(tmp_path.iterdir()) == []


def test_wrong_package_version_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(fe.importlib.metadata, "version", lambda name: "0.0.1")
    with pytest.raises(fe.FetchError, match="0.0.1 is installed"):
        fe.fetch_embedded(tmp_path / "data", chitchat_conversations=5, seed=42)
