"""GPU leases on one machine, with fake device ids (no GPU needed): N jobs, M < N devices, never
two jobs on one device at a time, and a SIGKILLed job's devices free at once."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from polyalign.device import lease as device_lease

SRC = str(Path(__file__).resolve().parents[1] / "src")

# A job: lease `count` devices, record (devices, start, end) while holding them, hold a while.
JOB = """
import json, os, sys, time
from polyalign.device.lease import ensure_lease
ids = ensure_lease(int(sys.argv[2]))
start = time.time()
time.sleep(float(sys.argv[3]))
with open(sys.argv[1], "w") as f:
    json.dump({"ids": ids, "visible": os.environ["CUDA_VISIBLE_DEVICES"], "start": start, "end": time.time()}, f)
"""


def job_env(lock_dir, devices="0,1", timeout=60):
    return {
        **os.environ,
        "PYTHONPATH": SRC,
        "CUDA_VISIBLE_DEVICES": devices,
        device_lease.LOCK_DIR_ENV: str(lock_dir),
        device_lease.TIMEOUT_ENV: str(timeout),
    }


def start_job(tmp_path, name, count=1, hold=0.6, **env):
    out = tmp_path / f"{name}.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", JOB, str(out), str(count), str(hold)], env=job_env(tmp_path / "locks", **env)
    )
    return proc, out


def test_n_jobs_on_m_devices_never_share_one(tmp_path):
    jobs = [start_job(tmp_path, f"job{i}") for i in range(5)]  # 5 jobs, 2 fake devices
    for proc, _ in jobs:
        assert proc.wait(timeout=120) == 0
    runs = [json.loads(out.read_text()) for _, out in jobs]
    for run in runs:
        assert len(run["ids"]) == 1 and run["visible"] == run["ids"][0] and run["ids"][0] in ("0", "1")
    for i, a in enumerate(runs):
        for b in runs[i + 1 :]:
            if a["ids"] == b["ids"]:  # same device: their holding intervals must not overlap
                assert a["end"] <= b["start"] or b["end"] <= a["start"], (a, b)
    # 5 jobs on 2 devices: both devices were used
    assert {r["ids"][0] for r in runs} == {"0", "1"}


def test_a_multi_gpu_job_gets_distinct_devices_all_or_nothing(tmp_path):
    one, one_out = start_job(tmp_path, "one", count=1, hold=1.0, devices="a,b,c")
    time.sleep(0.3)
    two, two_out = start_job(tmp_path, "two", count=2, hold=0.2, devices="a,b,c")
    three, three_out = start_job(tmp_path, "three", count=2, hold=0.2, devices="a,b,c")
    for proc in (one, two, three):
        assert proc.wait(timeout=120) == 0
    held = [json.loads(p.read_text()) for p in (one_out, two_out, three_out)]
    assert len(set(held[1]["ids"])) == 2 and held[1]["visible"] == ",".join(held[1]["ids"])
    for i, a in enumerate(held):
        for b in held[i + 1 :]:
            if set(a["ids"]) & set(b["ids"]):
                assert a["end"] <= b["start"] or b["end"] <= a["start"], (a, b)


def test_a_sigkilled_job_frees_its_lease(tmp_path):
    victim, _ = start_job(tmp_path, "victim", hold=600, devices="7")
    lock = tmp_path / "locks" / "gpu-7.lock"
    deadline = time.time() + 60
    while not (lock.exists() and lock.read_text().strip() == str(victim.pid)):
        assert time.time() < deadline, "the victim never took its lease"
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    t0 = time.time()
    proc, out = start_job(tmp_path, "next", hold=0.0, devices="7", timeout=5)
    assert proc.wait(timeout=60) == 0
    assert json.loads(out.read_text())["ids"] == ["7"] and time.time() - t0 < 30


def test_a_held_device_is_never_shared_silently(tmp_path, monkeypatch):
    holder, _ = start_job(tmp_path, "holder", hold=600, devices="3")
    lock = tmp_path / "locks" / "gpu-3.lock"
    deadline = time.time() + 60
    while not (lock.exists() and lock.read_text().strip() == str(holder.pid)):
        assert time.time() < deadline
        time.sleep(0.05)
    try:
        with pytest.raises(RuntimeError, match=rf"no 1 free GPU.*3 \(pid {holder.pid}\)"):
            device_lease.acquire(1, tmp_path / "locks", ["3"], timeout_s=0.5)
    finally:
        holder.kill()
        holder.wait()


def test_more_gpus_than_visible_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="needs 4 GPU.*only 2 are visible"):
        device_lease.acquire(4, tmp_path, ["0", "1"], timeout_s=0)


def test_leasing_is_off_without_a_lock_dir_and_idempotent_with_one(tmp_path, monkeypatch):
    monkeypatch.delenv(device_lease.LOCK_DIR_ENV, raising=False)
    assert device_lease.ensure_lease(1) is None
    monkeypatch.setenv(device_lease.LOCK_DIR_ENV, str(tmp_path))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5")
    monkeypatch.delenv(device_lease.HELD_ENV, raising=False)
    try:
        assert device_lease.ensure_lease(1) == ["4"]
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "4"
        assert device_lease.ensure_lease(1) == ["4"]  # the same lease, not a second device
        with pytest.raises(RuntimeError, match="cannot grow"):
            device_lease.ensure_lease(2)
    finally:
        device_lease.release()


def test_visible_devices_and_the_local_gpu_limit():
    assert device_lease.visible_device_ids({"CUDA_VISIBLE_DEVICES": "0, 2,GPU-ab"}) == ["0", "2", "GPU-ab"]
    assert device_lease.visible_device_ids({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert device_lease.local_gpu_limit({"_cores": 8}, ["0", "1", "2"]) == {"_cores": 8, "gpu": 3}
    assert device_lease.local_gpu_limit({"_cores": 8, "gpu": 1}, ["0", "1"])["gpu"] == 1  # the user's
    assert device_lease.local_gpu_limit({"_cores": 8}, []) == {"_cores": 8}  # CPU run: no limit
    scoped = device_lease.default_lock_dir({"SLURM_JOB_ID": "123"})
    assert scoped.name == "slurm-123" and device_lease.default_lock_dir({}).name == "local"
