"""`make run`: run the workflow, recovering by itself from an interrupted earlier run.

After a killed run (SIGKILL, power loss, a closed terminal) Snakemake leaves two things behind:
a lock in `.snakemake/locks/` (the next run stops with LockException) and the outputs of the
jobs that were running, marked incomplete (the next run stops with IncompleteFilesException).
This entry point

1. removes the lock with `snakemake --unlock`, but only when no live process still runs
   Snakemake in this directory (a second run in progress keeps its lock; this one then stops
   with Snakemake's own message);
2. runs `snakemake --rerun-incomplete` with the given arguments: the incomplete outputs are
   deleted and their jobs run again. Training jobs resume from their last verified checkpoint
   (kept under `results/.../checkpoints/`, never an output), so no finished step is lost.

    python -m polyalign.workflow_recovery --cores all [more snakemake arguments]
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

log = logging.getLogger("polyalign.workflow_recovery")


def lock_files(workdir: Path) -> list[Path]:
    locks = workdir / ".snakemake" / "locks"
    return sorted(p for p in locks.iterdir() if p.is_file()) if locks.is_dir() else []


def snakemake_processes(workdir: Path, exclude: set[int]) -> list[int] | None:
    """PIDs of live processes in `workdir` whose command line mentions snakemake (the workflow
    itself or one of its jobs); None when this cannot be known (no /proc)."""
    proc = Path("/proc")
    if not (proc / "self" / "cmdline").exists():
        return None
    here = workdir.resolve()
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) in exclude:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:  # gone meanwhile, or not ours to inspect
            continue
        if "snakemake" in cmdline and cwd == here:
            found.append(int(entry.name))
    return found


def unlock_if_stale(workdir: Path, snakemake: list[str], args: list[str]) -> bool:
    """Run `snakemake --unlock` when a lock exists and no Snakemake process holds it; True if so."""
    if not lock_files(workdir):
        return False
    live = snakemake_processes(workdir, exclude={os.getpid(), os.getppid()})
    if live is None:
        log.warning(
            "cannot tell whether another Snakemake runs here (no /proc); the lock stays. "
            "If no other run is active, run `snakemake --unlock` yourself."
        )
        return False
    if live:
        log.warning("Snakemake processes %s still run in %s; their lock stays", live, workdir)
        return False
    log.warning("removing the lock left by an interrupted run (no Snakemake process holds it)")
    keep = [a for a in args if a not in ("--rerun-incomplete", "--ri")]
    subprocess.run([*snakemake, "--unlock", *keep], cwd=workdir, check=True)
    return True


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    args = list(sys.argv[1:] if argv is None else argv)
    snakemake = [sys.executable, "-m", "snakemake"]
    workdir = Path.cwd()
    unlock_if_stale(workdir, snakemake, args)
    return subprocess.run([*snakemake, "--rerun-incomplete", *args], cwd=workdir, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
