"""Generation over several processes, one per GPU of the rule, with the one-process output.

A generation job is a JSON-able dict {model, records, train, system, config, out, overrides,
profile_length, style}. `run_generation` runs it in the Snakemake job itself when the rule has one GPU
(exactly `generate_file`, nothing else), else starts `accelerate launch --num_processes G -m
polyalign.generation.shards <job.json>`. Every process renders all prompts, forms the same parts
as a one-process run (`polyalign.generation.generate.part_plan`) and decodes every G-th of them
(`shard_parts`) into the job's parts folder (`polyalign.generation.parts`). A part is decoded
from an empty batch with per-(seed, record, sample) sampling streams, so its rows are the
one-process rows. When all processes have exited, this process (the Snakemake job) merges the
parts in input order and writes the output file, which is byte for byte the one-process file on
the same hardware. A job killed part-way (either way) resumes after its complete parts, with any
number of processes.

The merge happens after the launch instead of in rank 0 behind a barrier: the processes never
form a collective group, so an uneven shard (long prompts) cannot trip a collective timeout
after hours of decoding, and a rank that dies fails the launch instead of hanging its peers.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

from ..io import read_json, read_jsonl, write_json, write_jsonl
from .generate import generate_file, row_statistics
from .parts import merge_parts, parts_dir

log = logging.getLogger(__name__)

JOB_SUFFIX = ".generate_job.json"


def summary_path(out_path, rank: int, world: int) -> Path:
    """A rank's summary file next to the output."""
    out = Path(out_path)
    return out.with_name(f"{out.name}.rank{rank}-of-{world}.summary")


def run_job(job: dict, shard: tuple[int, int] = (0, 1)) -> dict:
    """Generate `job` in this process: all of it, or shard=(rank, world) of its parts."""
    return generate_file(
        job["model"],
        read_jsonl(job["records"]),
        job["system"],
        job["config"],
        job["out"],
        train_records=read_jsonl(job["train"]),
        overrides=job.get("overrides") or {},
        profile_length=job.get("profile_length") or None,
        shard=shard,
        style=job.get("style") or None,
    )


def run_generation(job: dict, gpus: int | None = 1, threads: int | None = None, log_path=None) -> dict:
    """Generate `job` with one process per GPU of the rule (`gpus`); returns the summary."""
    world = max(1, int(gpus or 1))
    if world > 1:
        from ..device.lease import ensure_lease

        ensure_lease(world)  # the ranks inherit the leased devices
    if world == 1:
        return run_job(job)  # the model load leases its device
    from ..train.launch import accelerate_command, free_port, run_launch

    t0 = time.perf_counter()
    out = Path(job["out"])
    out.parent.mkdir(parents=True, exist_ok=True)
    job_file = out.with_name(out.name + JOB_SUFFIX)
    write_json(job_file, job)
    # the stage's accelerate config is for training (FSDP/ZeRO would shard a model each rank
    # needs whole): generation ranks are plain processes
    cmd = accelerate_command(job_file, world, None, free_port(), module=__name__)
    run_launch(cmd, world, threads, log_path, f"generation ({job['system']})")
    summary = read_json(summary_path(out, 0, world))
    n_rows = summary["records"] * summary["decoding"]["num_samples"]
    part_rows = summary["decoding"]["part_rows"]
    rows = merge_parts(parts_dir(out), -(-n_rows // part_rows), n_rows)
    write_jsonl(out, rows)
    for rank in range(world):
        summary_path(out, rank, world).unlink()
    shutil.rmtree(parts_dir(out))
    job_file.unlink()
    return {**summary, **row_statistics(rows, time.perf_counter() - t0), "processes": world}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m polyalign.generation.shards JOB.json")
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s rank{rank} %(message)s")
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    summary = run_job(job, (rank, world))
    write_json(summary_path(job["out"], rank, world), summary)
    log.info("rank %d/%d: %d rows in %.1f s", rank, world, summary["rows"], summary["seconds"])


if __name__ == "__main__":
    main()
