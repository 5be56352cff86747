"""Check freshly fetched data against the DVC pin in data.dvc and fill the local DVC cache.

`dvc commit -f data.dvc` hashes data/ and stores it in the cache; if the content differs from
the pin it would rewrite data.dvc, so the pin is restored and the fetch fails loudly instead.
"""
from __future__ import annotations

import subprocess
from pathlib import Path


class DataPinMismatch(RuntimeError):
    pass


def verify_and_cache(dvc_file: str | Path = "data.dvc") -> bool:
    """Return False when there is no pin (e.g. a scratch copy of the workflow), True when the
    data matches it; raise DataPinMismatch otherwise."""
    dvc_file = Path(dvc_file)
    if not dvc_file.exists() or not (dvc_file.parent / ".dvc").is_dir():
        return False
    pinned = dvc_file.read_text()
    proc = subprocess.run(["dvc", "commit", "--force", "--quiet", str(dvc_file)],
                          cwd=dvc_file.parent, capture_output=True, text=True)
    current = dvc_file.read_text()
    if current != pinned:
        dvc_file.write_text(pinned)
        raise DataPinMismatch(
            f"the fetched data/ differs from the pin in {dvc_file} (did fetch settings change?). "
            "If the change is intended, re-pin with `dvc add data` and commit data.dvc."
        )
    if proc.returncode != 0:
        raise DataPinMismatch(f"`dvc commit {dvc_file}` failed: {proc.stderr.strip()}")
    return True
