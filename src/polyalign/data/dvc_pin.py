"""Check freshly fetched corpus folders against the hashes DVC recorded for them in dvc.lock.

Read-only: the folders are hashed here the way DVC hashes a directory (md5 of every file, then
md5 of the sorted JSON list of {md5, relpath}, suffixed ".dir"), and compared with the `outs`
entries of the `workflow` stage in dvc.lock. Nothing is committed to the DVC cache and nothing
under data/ is moved or rewritten; `dvc repro` records and caches the outputs itself.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

STAGE = "workflow"


class DataPinMismatch(RuntimeError):
    pass


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dvc_dir_md5(folder: str | Path) -> str:
    """DVC 3's hash of a directory tree (the `md5: ….dir` value of dvc.lock / .dvc files)."""
    folder = Path(folder)
    entries = [
        {"md5": file_md5(path), "relpath": path.relative_to(folder).as_posix()}
        for path in folder.rglob("*")
        if path.is_file()
    ]
    entries.sort(key=lambda entry: entry["relpath"])
    listing = json.dumps(entries, sort_keys=True).encode("utf-8")
    return hashlib.md5(listing).hexdigest() + ".dir"


def pinned_hashes(lock_file: str | Path, stage: str = STAGE) -> dict[str, str]:
    """{out path: md5} of one stage in dvc.lock; {} when the file or the stage is absent."""
    lock_file = Path(lock_file)
    if not lock_file.exists():
        return {}
    lock = yaml.safe_load(lock_file.read_text()) or {}
    outs = (lock.get("stages") or {}).get(stage, {}).get("outs", [])
    return {out["path"]: out["md5"] for out in outs if "md5" in out}


def check_pin(folders: list[str], lock_file: str | Path = "dvc.lock", root: str | Path = ".") -> list[str]:
    """Compare each folder (path relative to root, as written in dvc.lock) with its pin.

    Returns the folders that were checked (those with a pin); raises DataPinMismatch naming every
    folder whose content differs. Folders without a pin are skipped: a lock recorded before the
    folder became a stage output, or a scratch copy of the workflow without dvc.lock.
    """
    pins = pinned_hashes(Path(root) / lock_file)
    checked, differing = [], []
    for folder in folders:
        if folder not in pins:
            continue
        checked.append(folder)
        actual = dvc_dir_md5(Path(root) / folder)
        if actual != pins[folder]:
            differing.append(f"{folder}: {actual} (dvc.lock pins {pins[folder]})")
    if differing:
        raise DataPinMismatch(
            f"the fetched corpus differs from {lock_file}: "
            + "; ".join(differing)
            + ". If the change is intended (e.g. fetch.chitchat_conversations changed), run with "
            "fetch.check_dvc_pin: false, then `dvc commit workflow` records the new content."
        )
    return checked
