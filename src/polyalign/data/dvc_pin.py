"""The pin of the embedded corpus: the directory hashes `data.dvc` records for the fetched folders.

Read-only: folders are hashed here the way DVC hashes a directory (md5 of every file, then md5 of
the sorted JSON list of {md5, relpath}, suffixed ".dir") and compared with the `outs` of
`data.dvc`. Nothing here writes `data.dvc`, the DVC cache or anything under data/; re-pinning is
the user's explicit `dvc commit -f data.dvc` (docs/data.md).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

PIN_FILE = "data.dvc"
REPIN_COMMAND = f"dvc commit -f {PIN_FILE}"


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


def pinned_hashes(pin_file: str | Path = PIN_FILE) -> dict[str, str]:
    """{out path relative to the pin file's folder: md5} of a .dvc file; {} when it is absent."""
    pin_file = Path(pin_file)
    if not pin_file.exists():
        return {}
    pins = yaml.safe_load(pin_file.read_text()) or {}
    return {out["path"]: out["md5"] for out in pins.get("outs", []) if "md5" in out}


def check_pin(folders: dict[str, Path], pins: dict[str, str], pin_file: str = PIN_FILE) -> list[str]:
    """Compare each folder ({pinned path: folder on disk holding that content}) with its pin.

    Returns the pinned paths that were checked; raises DataPinMismatch naming every folder whose
    content differs. Folders without a pin are skipped (a scratch copy of the workflow without
    data.dvc): the caller logs that nothing was checked.
    """
    checked, differing = [], []
    for name, folder in folders.items():
        if name not in pins:
            continue
        checked.append(name)
        actual = dvc_dir_md5(folder)
        if actual != pins[name]:
            differing.append(f"{name}: {actual} ({pin_file} pins {pins[name]})")
    if differing:
        raise DataPinMismatch(
            f"the embedded corpus the fetch would write differs from {pin_file}: "
            + "; ".join(differing)
            + ". Nothing under data/ was changed. If the change is intended (e.g. "
            "fetch.chitchat_conversations changed), run once with fetch.check_dvc_pin: false, "
            f"then re-pin with `{REPIN_COMMAND}` and commit {pin_file}."
        )
    return checked
