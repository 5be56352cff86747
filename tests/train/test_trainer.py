import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from polyalign.train.data import build_examples, collate, epoch_batches
from polyalign.train.sft import lm_loss
from polyalign.train.trainer import TrainConfig, lr_lambda, train
from tests.models.micro import PROMPT, micro_model, micro_records, micro_tokenizer, one_thread  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[2]

# One training job, run in a subprocess (to be killed) and in-process (the reference run).
JOB = """
import json, sys, time
from functools import partial
import numpy as np
import torch
torch.set_num_threads(1)
from polyalign.train.data import build_examples, collate
from polyalign.train.sft import sft_loss
from polyalign.train.trainer import TrainConfig, train
from tests.models.micro import PROMPT, micro_model, micro_records, micro_tokenizer

def job(out, delay=0.0):
    tok = micro_tokenizer()
    model = micro_model(tok)
    records = micro_records()
    weights = np.linspace(0.5, 1.5, len(records))
    ex = build_examples(records, tok, "plain", max_length=128, weights=weights, **PROMPT)
    cfg = TrainConfig(lr=1e-2, epochs=4, micro_batch_size=4, grad_accum=2, warmup_steps=2, weight_decay=0.1,
                      checkpoint_every=2, keep_checkpoints=2, log_every=1, seed=3)
    def loss_fn(m, b):
        time.sleep(delay)
        return sft_loss(m, b)
    return train(model, tok, ex, partial(collate, pad_id=tok.pad_token_id, padding_side="left"), loss_fn, cfg, out,
                 lengths=[len(e.input_ids) for e in ex], fingerprint="micro", progress=False)

if __name__ == "__main__":
    print(json.dumps(job(sys.argv[1], float(sys.argv[2]))))
"""

pytestmark = pytest.mark.usefixtures("one_thread")


def _run_job(script, out, delay):
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.Popen(
        [sys.executable, str(script), str(out), str(delay)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow  # trains or renders repeatedly: full lane only
def test_resume_after_sigkill_reaches_the_same_weights(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(JOB)
    killed = tmp_path / "killed"

    proc = _run_job(script, killed, 0.1)
    deadline = time.time() + 120
    while not (killed / "checkpoints" / "step-4" / "trainer_state.json").exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < deadline, "no checkpoint appeared"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "model.safetensors").exists(), "the run finished before it was killed"

    # resume in this process (another process than the killed one), from the same file: the
    # loss function's source is part of the run's identity …
    spec = importlib.util.spec_from_file_location("job", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    threads = torch.get_num_threads()
    try:
        summary = module.job(killed)
        module.job(tmp_path / "straight")  # … and the uninterrupted reference run
    finally:
        torch.set_num_threads(threads)
    assert summary["resumed_from_step"] >= 4 and summary["steps"] == 12

    a = load_file(killed / "model.safetensors")
    b = load_file(tmp_path / "straight" / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert not (killed / "checkpoints").exists()
    steps = [json.loads(line)["step"] for line in (killed / "train_log.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 13))  # rows logged after the checkpoint by the killed run were dropped


@pytest.fixture(scope="module")
def lm_data():
    tok = micro_tokenizer()
    ex = build_examples(micro_records()[:8], tok, "plain", max_length=128, loss_on_prompt=True, **PROMPT)
    return tok, ex


def test_loss_decreases_and_outputs(tmp_path, lm_data):
    tok, ex = lm_data
    cfg = TrainConfig(lr=1e-2, max_steps=30, micro_batch_size=4, log_every=5, checkpoint_every=10)
    summary = train(
        micro_model(tok),
        tok,
        ex,
        partial(collate, pad_id=tok.pad_token_id),
        lm_loss,
        cfg,
        tmp_path,
        progress=False,
    )
    rows = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 5, 10, 15, 20, 25, 30]
    assert rows[-1]["loss"] < 0.5 * rows[0]["loss"]
    assert {"step", "loss", "lr", "grad_norm", "tokens_per_s", "elapsed"} <= set(rows[0])
    assert summary["steps"] == 30 and summary["resumed_from_step"] is None
    assert (tmp_path / "model.safetensors").exists() and (tmp_path / "tokenizer.json").exists()
    assert not (tmp_path / "checkpoints").exists()


def test_nan_loss_raises_with_the_step(tmp_path, lm_data):
    tok, ex = lm_data
    calls = []

    def loss_fn(model, batch):
        loss, m = lm_loss(model, batch)
        calls.append(1)
        return (loss * float("nan") if len(calls) == 3 else loss), m

    cfg = TrainConfig(max_steps=5, micro_batch_size=4)
    with pytest.raises(FloatingPointError, match="step 3"):
        train(
            micro_model(tok),
            tok,
            ex,
            partial(collate, pad_id=tok.pad_token_id),
            loss_fn,
            cfg,
            tmp_path,
            progress=False,
        )


def test_epoch_batches_are_a_function_of_seed_and_epoch():
    a = epoch_batches(50, 8, seed=1, epoch=0)
    assert a == epoch_batches(50, 8, seed=1, epoch=0) and a != epoch_batches(50, 8, seed=1, epoch=1)
    assert sorted(i for b in a for i in b) == list(range(50))
    lengths = [i % 7 for i in range(50)]
    g = epoch_batches(50, 8, seed=1, epoch=0, lengths=lengths, group_batches=10)
    assert sorted(i for b in g for i in b) == list(range(50))
    assert all(max(lengths[i] for i in b) - min(lengths[i] for i in b) <= 1 for b in g[:-1] if len(b) == 8)
    w = [0.0] * 49 + [1.0]
    assert epoch_batches(50, 8, seed=1, epoch=0, sample_weights=w) == [[49] * 8] * 6 + [[49] * 2]


def test_lr_schedules():
    cos = lr_lambda(total=10, warmup=2, schedule="cosine", min_ratio=0.1)
    assert [cos(0), cos(1)] == [0.5, 1.0]
    assert cos(2) == pytest.approx(1.0) and cos(10) == pytest.approx(0.1)
    lin = lr_lambda(total=10, warmup=0, schedule="linear", min_ratio=0.0)
    assert lin(5) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        TrainConfig.from_dict({"lr": 1, "learning_rate": 2})
    with pytest.raises(ValueError):
        TrainConfig.from_dict({"schedule": "step"})


def test_precisions_one_after_another_in_one_process(tmp_path, lm_data):
    tok, ex = lm_data
    for i, precision in enumerate(("no", "bf16", "fp16")):
        cfg = TrainConfig(max_steps=2, micro_batch_size=4, mixed_precision=precision)
        summary = train(
            micro_model(tok),
            tok,
            ex,
            partial(collate, pad_id=tok.pad_token_id),
            lm_loss,
            cfg,
            tmp_path / str(i),
            progress=False,
        )
        expect = precision if precision != "fp16" or torch.cuda.is_available() else "no"
        assert summary["mixed_precision"] == expect


def test_accumulation_tells_accelerate_which_micro_batch_ends_a_step(tmp_path, lm_data):
    """accelerate's sync_gradients flag (read by DeepSpeed's backward and AcceleratedOptimizer)
    is False on every micro-batch but the last of each optimizer step."""
    from accelerate.state import GradientState

    tok, ex = lm_data
    flags = []

    def loss_fn(model, batch):
        flags.append(GradientState().sync_gradients)
        return lm_loss(model, batch)

    cfg = TrainConfig(max_steps=2, micro_batch_size=2, grad_accum=2)
    train(
        micro_model(tok),
        tok,
        ex,
        partial(collate, pad_id=tok.pad_token_id),
        loss_fn,
        cfg,
        tmp_path,
        progress=False,
    )
    assert flags == [False, True, False, True]
