"""GPU leases: on one machine, each model job holds its own devices while it runs.

Snakemake counts the `gpu` resource but does not say *which* device a job gets: without leases
every job of a local run lands on `cuda:0`. A job takes a lease before it touches CUDA: an
exclusive `fcntl.flock` on one lock file per device id in a lock directory, kept open for the
life of the process, and `CUDA_VISIBLE_DEVICES` set to the leased ids (child processes, such as
the ranks of `accelerate launch`, inherit both the variable and the fact that the parent holds
the lease). The kernel drops a flock when its holder dies, so a job killed with SIGKILL frees
its devices at once; no stale lease outlives its process.

Leasing is on when `LOCK_DIR_ENV` names a directory (the Snakefile sets it for local runs that
see GPUs) and off otherwise (library use, tests, CPU runs). The lock directory is shared by every
run of the machine (or, inside a SLURM allocation, of that allocation), so two workflows started
side by side never share a device either.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

LOCK_DIR_ENV = "POLYALIGN_GPU_LOCK_DIR"
# set in a process that holds a lease (and inherited by its children): the ids it holds
HELD_ENV = "POLYALIGN_GPU_LEASE"
TIMEOUT_ENV = "POLYALIGN_GPU_LEASE_TIMEOUT"
DEFAULT_TIMEOUT_S = 3600.0
POLL_S = 0.5

_held: list = []  # open lock files of this process's lease (kept open: closing frees the lease)


def visible_device_ids(env=None) -> list[str]:
    """The GPU ids this process may use, without initialising CUDA: CUDA_VISIBLE_DEVICES when
    set (ids or UUIDs, as written), else the indexes `nvidia-smi -L` lists, else none."""
    env = os.environ if env is None else env
    if "CUDA_VISIBLE_DEVICES" in env:
        return [d.strip() for d in env["CUDA_VISIBLE_DEVICES"].split(",") if d.strip()]
    if shutil.which("nvidia-smi") is None:
        return []
    proc = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        return []
    return [m[1] for m in re.finditer(r"^GPU (\d+):", proc.stdout, re.M)]


def default_lock_dir(env=None) -> Path:
    """Machine-local, one per SLURM allocation (inside one, device ids are the allocation's)."""
    env = os.environ if env is None else env
    scope = f"slurm-{env['SLURM_JOB_ID']}" if env.get("SLURM_JOB_ID") else "local"
    return Path(tempfile.gettempdir()) / f"polyalign-gpu-leases-{os.getuid()}" / scope


def _lock_path(lock_dir: Path, device: str) -> Path:
    return lock_dir / f"gpu-{re.sub(r'[^A-Za-z0-9_.-]', '_', device)}.lock"


def _try_take(lock_dir: Path, devices: list[str], count: int) -> list[tuple[str, object]] | None:
    """`count` free devices, all locked (or none locked and None: never part of a lease, so two
    multi-GPU jobs cannot each hold half of what the other needs)."""
    taken = []
    for device in devices:
        f = open(_lock_path(lock_dir, device), "a+")  # noqa: SIM115 (held open: the lease)
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            continue
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        taken.append((device, f))
        if len(taken) == count:
            return taken
    for _, f in taken:
        f.close()
    return None


def _holders(lock_dir: Path, devices: list[str]) -> str:
    out = []
    for device in devices:
        path = _lock_path(lock_dir, device)
        pid = path.read_text().strip() if path.exists() else ""
        out.append(f"{device} (pid {pid or '?'})")
    return ", ".join(out)


def acquire(count: int, lock_dir: str | os.PathLike, devices: list[str], timeout_s: float) -> list[str]:
    """Lease `count` of `devices` (waiting up to `timeout_s` for other jobs to free them), set
    CUDA_VISIBLE_DEVICES to them and return them."""
    if count > len(devices):
        raise RuntimeError(
            f"this job needs {count} GPU(s) but only {len(devices)} are visible ({devices}): lower the "
            "rule's gpu resource or run where more GPUs are"
        )
    lock_dir = Path(lock_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    waited = False
    while (taken := _try_take(lock_dir, devices, count)) is None:
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"no {count} free GPU(s) after {timeout_s:.0f} s: held by {_holders(lock_dir, devices)} "
                f"(leases in {lock_dir}; raise {TIMEOUT_ENV} or free them)"
            )
        if not waited:
            log.info("waiting for %d free GPU(s) of %s", count, devices)
            waited = True
        time.sleep(POLL_S)
    ids = [device for device, _ in taken]
    _held.extend(f for _, f in taken)
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(ids)
    os.environ[HELD_ENV] = ",".join(ids)
    log.info("leased GPU(s) %s", ",".join(ids))
    return ids


def ensure_lease(count: int = 1) -> list[str] | None:
    """Before this process touches CUDA: lease `count` GPUs when leasing is on (LOCK_DIR_ENV).
    Idempotent: a process that holds a lease, or whose parent does (HELD_ENV matches
    CUDA_VISIBLE_DEVICES), keeps it; a second call asking for more than it holds is an error."""
    lock_dir = os.environ.get(LOCK_DIR_ENV)
    if not lock_dir:
        return None
    held = os.environ.get(HELD_ENV)
    if held is not None and held == os.environ.get("CUDA_VISIBLE_DEVICES"):
        ids = held.split(",")
        if count > len(ids):
            raise RuntimeError(f"this process holds GPU lease {held} and cannot grow it to {count} GPUs")
        return ids
    timeout = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S))
    return acquire(count, lock_dir, visible_device_ids(), timeout)


def release() -> None:
    """Free this process's lease (process exit does the same)."""
    while _held:
        _held.pop().close()
    os.environ.pop(HELD_ENV, None)


def local_gpu_limit(resources: dict, devices: list[str]) -> dict:
    """The global resources of a local run: `gpu` limited to the visible devices unless the user
    set it (`--resources gpu=N`); without visible devices unchanged (CPU runs keep gpu=1 jobs
    runnable side by side)."""
    if devices and resources.get("gpu") is None:
        return {**resources, "gpu": len(devices)}
    return resources
