"""Training jobs and how their processes start.

A job is a JSON-able dict {stage, inputs, config, out_dir}, trained by a stage function the caller
passes (`polyalign.train.sft.sft_job`, `polyalign.preference.train.preference_job`, ...), so that
this module imports no trainer: what a rule's digest contains is what its script imports.
`run_training` starts it either in process (one process, the embedded default: no extra start-up)
or under `accelerate launch` with one process per GPU of the rule, every process running
`python -m polyalign.train.launch <job.json>`. The launch config file (DDP by default; FSDP or
DeepSpeed ZeRO-3 from workflow/accelerate/) sets the distributed backend; precision comes from
the stage's TrainConfig (bf16 autocast over fp32 master weights). Without CUDA the processes
form a gloo group on the CPU (tests). Rank 0 writes the summary; the job is checkpointed and
resumed by the trainer exactly as in process.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from accelerate.utils import DistributedType

from ..device.policy import REQUIRE_CUDA_ENV
from ..io import read_json, write_json

log = logging.getLogger(__name__)

# A stage function trains one job in this process (or as one rank of a launched group) and
# returns its summary. The caller (a workflow script) passes it, so this module imports no stage.
Stage = Callable[[dict], dict]
LAUNCHERS = ("auto", "inprocess", "accelerate")
JOB_FILE = "launch_job.json"
SUMMARY_FILE = "train_summary.json"  # what a stage's rank 0 writes into out_dir; read back here


def stage_entry(stage: Stage) -> str:
    """The "module:function" name of `stage`, for the processes `accelerate launch` starts."""
    entry = f"{stage.__module__}:{stage.__qualname__}"
    if "<" in entry or stage.__module__ == "__main__":
        raise ValueError(f"stage {entry} is not importable by name: define it at module level in the library")
    return entry


def load_stage(entry: str) -> Stage:
    """The stage function named by `stage_entry`."""
    module, _, name = entry.partition(":")
    return getattr(importlib.import_module(module), name)


def launch_plan(config: dict, gpus: int | None) -> tuple[str, int]:
    """(launcher, processes) from the config's `launch:` block and the rule's gpu resource."""
    settings = {
        "launcher": "auto",
        "accelerate_config": None,
        "num_processes": None,
        **(config.get("launch") or {}),
    }
    launcher = settings["launcher"]
    if launcher not in LAUNCHERS:
        raise ValueError(f"launch.launcher must be one of {LAUNCHERS}, got {launcher!r}")
    nproc = int(settings["num_processes"] or max(1, int(gpus or 1)))
    if launcher == "auto":
        launcher = "accelerate" if nproc > 1 else "inprocess"
    if launcher == "inprocess" and nproc > 1:
        raise ValueError(f"launch.launcher inprocess cannot run {nproc} processes; use accelerate")
    return launcher, nproc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# What `accelerate launch --config_file` exports for a sharded config, and the distributed type
# the Accelerator must then have.
SHARDING_ENV = {
    "ACCELERATE_USE_FSDP": DistributedType.FSDP,
    "ACCELERATE_USE_DEEPSPEED": DistributedType.DEEPSPEED,
}


def check_sharding(distributed_type: DistributedType, env: Mapping[str, str]) -> None:
    """Fail when the launch config asked for FSDP or DeepSpeed but accelerate set up something
    else. Without CUDA it silently trains plain data-parallel (DDP over gloo) instead: the same
    numbers, but each process holds the whole model and optimizer state, which is not the
    memory layout the config promises."""
    for var, wanted in SHARDING_ENV.items():
        if env.get(var, "").lower() in ("1", "true") and distributed_type != wanted:
            raise RuntimeError(
                f"the accelerate config asks for {wanted.value} ({var} is set) but accelerate set up "
                f"{distributed_type.value}: {wanted.value} needs CUDA GPUs; on CPU use the DDP config "
                "(workflow/accelerate/ddp.yaml) or none"
            )


# Launch backends that were never run on GPUs in this project, and why they are refused: the
# checkpoints are written by rank 0 from the unwrapped model and the optimizer's state_dict (under
# FSDP/ZeRO-3 those are shards, rank 0 would save 1/G of them), and DeepSpeed is prepared without
# a dataloader or micro-batch size (its "auto" batch settings cannot resolve).
UNVERIFIED_BACKENDS = {
    "FSDP": "checkpoints are not sharding-aware (rank 0 saves its shard only)",
    "DEEPSPEED": "checkpoints are not sharding-aware and DeepSpeed gets no dataloader/batch sizes",
}


def check_backend(accelerate_config: str | None) -> None:
    """Refuse an accelerate config whose backend is not verified (UNVERIFIED_BACKENDS), before
    any process starts: DDP (workflow/accelerate/ddp.yaml) is the verified multi-GPU mode."""
    if not accelerate_config:
        return
    import yaml

    with open(accelerate_config, encoding="utf-8") as f:
        backend = str((yaml.safe_load(f) or {}).get("distributed_type", "")).upper()
    if backend in UNVERIFIED_BACKENDS:
        raise RuntimeError(
            f"launch.accelerate_config {accelerate_config}: {backend} training is not verified on GPUs "
            f"and is refused ({UNVERIFIED_BACKENDS[backend]}); use workflow/accelerate/ddp.yaml "
            "(docs/paper_scale.md, 'Multi-GPU training')"
        )


def accelerate_command(
    job_file, nproc: int, accelerate_config: str | None, port: int, module: str = "polyalign.train.launch"
) -> list[str]:
    """`accelerate launch` of `python -m module job_file` in `nproc` processes."""
    cmd = [sys.executable, "-m", "accelerate.commands.launch"]
    if accelerate_config:
        cmd += ["--config_file", str(accelerate_config)]
    elif nproc > 1:
        cmd += ["--multi_gpu"]  # DDP; on a machine without CUDA the trainer asks for a CPU (gloo) group
    cmd += [
        "--num_processes",
        str(nproc),
        "--num_machines",
        "1",
        "--main_process_port",
        str(port),
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",  # precision: the stage's TrainConfig
        "-m",
        module,
        str(job_file),
    ]
    return cmd


def run_launch(cmd: list[str], nproc: int, threads: int | None, log_path, what: str) -> None:
    """Run an `accelerate launch` command with the job's threads shared among its processes,
    its output appended to `log_path` (or stderr); a non-zero exit raises naming `what`."""
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(max(1, threads // nproc))
    log.info("launching %d process(es): %s", nproc, " ".join(cmd))
    sink = open(log_path, "a", encoding="utf-8") if log_path else None
    try:
        proc = subprocess.run(cmd, env=env, stdout=sink, stderr=subprocess.STDOUT if sink else None)
    finally:
        if sink:
            sink.close()
    if proc.returncode != 0:
        raise RuntimeError(
            f"accelerate launch of {what} exited with {proc.returncode} (see {log_path or 'stderr'})"
        )


def is_copy(job: dict) -> bool:
    """The BaseLM stage of a pretrained model family only copies its checkpoint: nothing to train."""
    if job["stage"] != "pretrain":
        return False
    from ..models import model_settings

    return model_settings(job["config"].get("model")).source != "scratch"


def run_training(
    job: dict, stage: Stage, gpus: int | None = None, threads: int | None = None, log_path=None
) -> dict:
    """Train `job` with `stage` as the config's `launch:` block says; returns the summary rank 0
    wrote. A copy (`is_copy`) runs in process: starting processes for it would only cost
    start-up time."""
    launcher, nproc = launch_plan(job["config"], gpus)
    if not is_copy(job):
        check_backend((job["config"].get("launch") or {}).get("accelerate_config"))
    from ..device.lease import ensure_lease

    ensure_lease(nproc)  # before anything touches CUDA; launched ranks inherit the devices
    if os.environ.get(REQUIRE_CUDA_ENV) and not is_copy(job):
        from ..models.runtime import require_cuda

        require_cuda(str((job["config"].get("model") or {}).get("device", "auto")))
    if launcher == "inprocess" or is_copy(job):
        return stage(job)
    out = Path(job["out_dir"])
    out.mkdir(parents=True, exist_ok=True)
    job_file = out / JOB_FILE
    write_json(job_file, {**job, "entry": stage_entry(stage)})
    cmd = accelerate_command(
        job_file, nproc, (job["config"].get("launch") or {}).get("accelerate_config"), free_port()
    )
    run_launch(cmd, nproc, threads, log_path, job["stage"])
    job_file.unlink()
    return read_json(out / SUMMARY_FILE)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m polyalign.train.launch JOB.json")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s rank" + os.environ.get("RANK", "0") + " %(message)s"
    )
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    load_stage(job.pop("entry"))(job)


if __name__ == "__main__":
    main()
