"""Training under `accelerate launch`: the launch plan from the rule's GPUs, the command, a
real 2-process (CPU, gloo) Bucket-SFT run whose loss curve and final weights match one process
with the same global batch, and the same 2-process run SIGKILLed mid-run and resumed, which ends
on the uninterrupted run's weights bit for bit."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from polyalign.config import fill_defaults
from polyalign.io import write_jsonl
from polyalign.train.launch import accelerate_command, launch_plan, run_training
from polyalign.train.sft import pretrain_job, sft_job

from ..conftest import REPO
from ..models.micro import micro_records
from ..paper_models import build_tiny_checkpoint


def test_launch_plan_follows_the_gpu_resource():
    assert launch_plan({}, 1) == ("inprocess", 1)
    assert launch_plan({}, 4) == ("accelerate", 4)
    assert launch_plan({"launch": {"launcher": "accelerate"}}, 1) == ("accelerate", 1)
    assert launch_plan({"launch": {"num_processes": 2}}, 8) == ("accelerate", 2)
    with pytest.raises(ValueError, match="inprocess cannot run 4"):
        launch_plan({"launch": {"launcher": "inprocess"}}, 4)


def test_accelerate_command():
    cmd = accelerate_command("job.json", 4, "workflow/accelerate/fsdp.yaml", 29500)
    assert cmd[1:3] == ["-m", "accelerate.commands.launch"]
    assert cmd[cmd.index("--config_file") + 1] == "workflow/accelerate/fsdp.yaml"
    assert cmd[cmd.index("--num_processes") + 1] == "4" and cmd[-3:] == [
        "-m",
        "polyalign.train.launch",
        "job.json",
    ]
    assert "--multi_gpu" in accelerate_command("job.json", 2, None, 1)


# Same data, same global batch (8 = 4 x 2 accumulation in one process, 4 x 2 ranks in two), fp32:
# the two runs differ only in the order of float additions (gradient all-reduce vs accumulation),
# so the loss curves agree to 1e-5 relative and the weights after 6 AdamW steps to 1e-4.
LOSS_RTOL, WEIGHT_ATOL = 1e-5, 1e-4


def tiny_training_setup(tmp_path):
    """A tiny Qwen2 checkpoint, the micro records as train.jsonl and a resolved config."""
    base = build_tiny_checkpoint("qwen2", tmp_path / "base")
    write_jsonl(tmp_path / "train.jsonl", micro_records())
    config = fill_defaults(
        {
            "model": {"source": str(base), "max_length": 512},
            "prompt": {"max_prompt_tokens": 400, "max_history_turns": 2},
            "train_common": {
                "micro_batch_size": 4,
                "checkpoint_every": 2,
                "keep_checkpoints": 2,
                "log_every": 1,
                "group_by_length": True,
            },
            "sft": {"lr": 1e-2, "epochs": 2, "global_batch_size": 8, "warmup_ratio": 0.0},
            "bucket_sft": {"tau": 1.0},
        }
    )
    return base, config


def _job(tmp, base, config, name, launch):
    return {
        "stage": "bucket_sft",
        "config": {**config, "launch": launch},
        "out_dir": str(tmp / name),
        "inputs": {"train": str(tmp / "train.jsonl"), "model": str(base)},
    }


TWO = {"launcher": "accelerate", "num_processes": 2}


@pytest.fixture(scope="module")
def ddp_setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    base, config = tiny_training_setup(tmp)
    return tmp, base, config


@pytest.fixture(scope="module")
def two_process_run(ddp_setup):
    """The uninterrupted 2-process run: (summary, loss curve, final weights)."""
    tmp, base, config = ddp_setup
    summary = run_training(
        _job(tmp, base, config, "two", TWO), sft_job, gpus=2, threads=2, log_path=tmp / "two.log"
    )
    curve = [json.loads(line)["loss"] for line in (tmp / "two" / "train_log.jsonl").open()]
    return summary, curve, load_file(str(tmp / "two" / "model.safetensors"))


@pytest.mark.slow
def test_two_process_run_matches_one_process(ddp_setup, two_process_run):
    tmp, base, config = ddp_setup
    one = run_training(
        _job(tmp, base, config, "one", {"launcher": "inprocess", "num_processes": 1}),
        sft_job,
        gpus=2,
        threads=2,
    )
    curve1 = [json.loads(line)["loss"] for line in (tmp / "one" / "train_log.jsonl").open()]
    w1 = load_file(str(tmp / "one" / "model.safetensors"))
    two, curve2, w2 = two_process_run
    log = (tmp / "two.log").read_text()
    assert (one["train"]["processes"], one["train"]["grad_accum"]) == (1, 2)
    assert (two["train"]["processes"], two["train"]["grad_accum"]) == (2, 1), log[-3000:]
    # DDP's buckets hold the gradients (no second copy of them on each GPU)
    assert "data parallel over 2 processes, gradient_as_bucket_view=True" in log, log[-3000:]
    assert one["train"]["steps"] == two["train"]["steps"] == 6
    assert len(curve1) == len(curve2) == 6
    assert curve2 == pytest.approx(curve1, rel=LOSS_RTOL)
    assert w1.keys() == w2.keys()
    moved = max(float((w1[k] - load_file(str(base / "model.safetensors"))[k]).abs().max()) for k in w1)
    assert moved > 100 * WEIGHT_ATOL  # training moved the weights far more than the tolerance
    diff = max(float((w2[k] - w1[k]).abs().max()) for k in w1)
    assert diff <= WEIGHT_ATOL, f"max |w2 - w1| = {diff:.2e} (weights moved up to {moved:.2e})"


def _wait_until_gone(pid: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            state = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return
        if "State:\tZ" in state:  # exited, not yet reaped by its new parent
            return
        assert time.time() < deadline, f"rank process {pid} outlived the killed launcher"
        time.sleep(0.1)


KILLED_RUN = """
import json, sys
from polyalign.train.launch import run_training
from tests.train.ddp_kill import blocked_sft_job
job = json.loads(sys.argv[1])
run_training(job, blocked_sft_job, gpus=2, threads=2, log_path=sys.argv[2])
"""


@pytest.mark.slow
def test_two_process_run_killed_mid_run_resumes_to_the_same_weights(ddp_setup, two_process_run):
    """DDP over gloo: SIGKILL of the launcher and both ranks inside step 6 (checkpoint at step 4,
    step 5 logged after it), then the same job again: it resumes from step 4 in two new processes
    and ends on exactly the uninterrupted 2-process run's weights and loss curve."""
    from .ddp_kill import BLOCK_AT_STEP

    tmp, base, config = ddp_setup
    job = _job(tmp, base, config, "killed", TWO)
    out = tmp / "killed"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, json.dumps(job), str(tmp / "killed.log")],
        cwd=REPO,
        env=env,
        start_new_session=True,  # its own process group: the launcher and torch's agent
        stderr=subprocess.PIPE,
        text=True,
    )
    markers = [out / f"blocked.rank{r}" for r in (0, 1)]
    deadline = time.time() + 120
    try:
        while not all(m.exists() for m in markers):
            assert proc.poll() is None, proc.stderr.read() + (tmp / "killed.log").read_text()[-3000:]
            assert time.time() < deadline, "the ranks never reached the blocked step"
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    for marker in markers:  # each rank runs in a session of its own and leaves once its agent is gone
        _wait_until_gone(int(marker.read_text()))
    assert not (out / "model.safetensors").exists()
    steps = [json.loads(line)["step"] for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert steps == list(range(1, BLOCK_AT_STEP))  # step 5 logged after the step-4 checkpoint
    assert (out / "checkpoints" / "step-4").is_dir()

    summary = run_training(job, sft_job, gpus=2, threads=2, log_path=tmp / "resumed.log")
    log = (tmp / "resumed.log").read_text()
    assert summary["train"]["resumed_from_step"] == 4, log[-3000:]
    assert summary["train"]["processes"] == 2
    _, curve, w_straight = two_process_run
    w_resumed = load_file(str(out / "model.safetensors"))
    assert w_resumed.keys() == w_straight.keys()
    for k in w_straight:
        assert torch.equal(w_resumed[k], w_straight[k]), k
    resumed_curve = [json.loads(line)["loss"] for line in (out / "train_log.jsonl").open()]
    assert resumed_curve == curve  # step 5's row of the killed run replaced, not duplicated
    assert not (out / "checkpoints").exists()


def test_copying_a_pretrained_base_starts_no_processes(tmp_path, caplog):
    source = build_tiny_checkpoint("qwen2", tmp_path / "tiny")
    write_jsonl(tmp_path / "train.jsonl", micro_records()[:2])
    config = fill_defaults(
        {"model": {"source": str(source)}, "launch": {"launcher": "accelerate", "num_processes": 2}}
    )
    job = {
        "stage": "pretrain",
        "config": config,
        "out_dir": str(tmp_path / "base"),
        "inputs": {"train": str(tmp_path / "train.jsonl"), "tokenizer": None},
    }
    with caplog.at_level("INFO"):
        summary = run_training(job, pretrain_job, gpus=2)
    assert (summary["stage"], summary["source"], summary["trained"]) == ("pretrain", str(source), False)
    assert (tmp_path / "base" / "config.json").exists() and "launching" not in caplog.text
    assert not (tmp_path / "base" / "launch_job.json").exists()


def test_check_sharding_refuses_a_silent_fallback_from_fsdp_or_deepspeed():
    from accelerate.utils import DistributedType as D

    from polyalign.train.launch import check_sharding

    check_sharding(D.FSDP, {"ACCELERATE_USE_FSDP": "true"})
    check_sharding(D.DEEPSPEED, {"ACCELERATE_USE_DEEPSPEED": "true"})
    check_sharding(D.MULTI_CPU, {})  # DDP asked, DDP got
    check_sharding(D.MULTI_GPU, {"ACCELERATE_USE_FSDP": "false"})
    with pytest.raises(RuntimeError, match="asks for FSDP .* set up MULTI_CPU: FSDP needs CUDA"):
        check_sharding(D.MULTI_CPU, {"ACCELERATE_USE_FSDP": "true"})
    with pytest.raises(RuntimeError, match="asks for DEEPSPEED .* set up MULTI_GPU"):
        check_sharding(D.MULTI_GPU, {"ACCELERATE_USE_DEEPSPEED": "1"})


@pytest.mark.parametrize("name", ["fsdp.yaml", "deepspeed_zero3.yaml"])
def test_unverified_sharded_backends_are_refused_before_any_process_starts(name, monkeypatch, tmp_path):
    from polyalign.train import launch

    monkeypatch.setattr(launch, "run_launch", lambda *a, **k: pytest.fail("a process was started"))
    job = {
        "stage": "sft",
        "inputs": {},
        "config": {
            "model": {"source": "Qwen/Qwen2.5-1.5B", "device": "cpu"},
            "launch": {"launcher": "accelerate", "accelerate_config": f"workflow/accelerate/{name}"},
        },
        "out_dir": str(tmp_path),
    }
    monkeypatch.chdir(REPO)
    with pytest.raises(RuntimeError, match="not verified on GPUs and is refused.*ddp.yaml"):
        launch.run_training(job, sft_job, gpus=2)
    launch.check_backend("workflow/accelerate/ddp.yaml")  # the verified mode passes
