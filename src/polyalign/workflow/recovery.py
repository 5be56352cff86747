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

Two recoveries started at once would both see no live Snakemake and both unlock. The check, the
unlock and the start of the rerun therefore happen under an exclusive `flock` on
`.snakemake/recovery.lock`: a second recovery waits for it, then sees the first one's Snakemake
process and leaves its lock alone.

A profile that writes elsewhere (`output_root`, e.g. `runs/paper/` for config/paper.yaml) has
its Snakemake lock there, since the Snakefile's `workdir:` moves Snakemake into it; the lock is
looked for in the output root of the given config files (the last one that sets it).

What it cannot see: Snakemake processes on other machines. On a cluster (a shared file system,
`--executor slurm`, several login nodes) a run started from another node holds the lock while no
process here shows it; `/proc` is per machine. There, check the scheduler's queue (`squeue -u
$USER`) before `make run`, or run `snakemake --unlock` yourself once nothing runs.

    python -m polyalign.workflow.recovery --cores all [more snakemake arguments]
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from ..config import ConfigError, load_yaml_file

log = logging.getLogger("polyalign.workflow.recovery")


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


class RecoveryBusy(RuntimeError):
    """Another recovery holds the recovery lock of this directory."""


@contextlib.contextmanager
def recovery_lock(workdir: Path, wait_s: float = 120.0):
    """An exclusive flock on `.snakemake/recovery.lock`, waited for up to `wait_s` seconds."""
    path = workdir / ".snakemake" / "recovery.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RecoveryBusy(f"{path}: another recovery holds it; not unlocking") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def unlock_if_stale(workdir: Path, snakemake: list[str], args: list[str], wait_s: float = 120.0) -> bool:
    """Run `snakemake --unlock` when a lock exists and no Snakemake process holds it; True if so.
    The check and the unlock run under the recovery lock (`recovery_lock`)."""
    try:
        with recovery_lock(workdir, wait_s):
            return _unlock_if_stale(workdir, snakemake, args)
    except RecoveryBusy as busy:
        log.warning("%s", busy)
        return False


def run_dir(workdir: Path, args: list[str]) -> Path:
    """Where Snakemake works and keeps its lock: the `output_root` of the last config file given
    that sets one (relative to `workdir`), else `workdir`."""
    root = "."
    for path in configfiles(args):
        config = load_yaml_file(workdir / path)
        if isinstance(config, dict) and config.get("output_root"):
            root = str(config["output_root"])
    return workdir / root


def _unlock_if_stale(workdir: Path, snakemake: list[str], args: list[str]) -> bool:
    where = run_dir(workdir, args)
    if not lock_files(where):
        return False
    exclude = {os.getpid(), os.getppid()}
    live = snakemake_processes(workdir, exclude)
    if live is not None and where.resolve() != workdir.resolve():
        live += snakemake_processes(where, exclude) or []
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


def configfiles(args: list[str]) -> list[str]:
    """The files given to --configfile/--configfiles (each may take several)."""
    out, taking = [], False
    for arg in args:
        if arg in ("--configfile", "--configfiles"):
            taking = True
        elif arg.startswith("-"):
            taking = False
        elif taking:
            out.append(arg)
    return out


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    args = list(sys.argv[1:] if argv is None else argv)
    snakemake = [sys.executable, "-m", "snakemake"]
    workdir = Path.cwd()
    try:  # Snakemake reports a malformed config file without its name or line
        for path in configfiles(args):
            load_yaml_file(workdir / path)
    except ConfigError as err:
        log.error("%s", err)
        return 1
    try:
        with recovery_lock(workdir):
            _unlock_if_stale(workdir, snakemake, args)
            # started under the lock: a second recovery then sees this Snakemake process
            rerun = subprocess.Popen([*snakemake, "--rerun-incomplete", *args], cwd=workdir)
    except RecoveryBusy as busy:
        log.error("%s", busy)
        return 1
    return rerun.wait()


if __name__ == "__main__":
    sys.exit(main())
