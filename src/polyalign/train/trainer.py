"""One training loop (on `accelerate`) for every stage: base pretraining, SFT, Bucket-SFT, and
the preference stage, which passes its own loss function.

    loss_fn(model, batch) -> (loss, metrics)      batch = collate_fn([dataset[i] for i in ...])

One optimizer step consumes `grad_accum` micro-batches per process; the order of micro-batches
is a pure function of (seed, epoch) (`data.epoch_batches`), so the position in the data is just
the step count. Checkpoints go to `<out>/checkpoints/step-N` (`checkpoint.py`: safetensors and
JSON only, a hash manifest written last), written into a hidden temp directory and renamed, so
a directory named step-N is complete unless its files were damaged later, which the manifest
catches. Calling `train` again with the same out dir, starting weights, tokenizer, data and
config resumes from the newest good checkpoint and reaches bit-identical final weights (same
machine, same number of threads); checkpoints of any other run are set aside and training
starts fresh. At the end the model and tokenizer are saved with `save_pretrained` into `<out>/`
and only then the checkpoints are removed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from accelerate.utils import DistributedDataParallelKwargs, set_seed

from ..io import write_text
from ..progress import progress_bar
from .checkpoint import (
    CHECKPOINTS,
    STATE_FILE,
    find_resumable,
    load_checkpoint,
    save_checkpoint,
    state_dict_sha256,
    step_dirs,
    tokenizer_sha256,
)
from .data import epoch_batches
from .launch import check_sharding
from .settings import LOG_FILE, TrainConfig

log = logging.getLogger(__name__)


def lr_lambda(total: int, warmup: int, schedule: str, min_ratio: float) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if schedule == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        decay = 0.5 * (1 + math.cos(math.pi * progress)) if schedule == "cosine" else 1 - progress
        return min_ratio + (1 - min_ratio) * decay

    return factor


def effective_mixed_precision(requested: str) -> str:
    if requested == "fp16" and not torch.cuda.is_available():
        log.warning("mixed_precision=fp16 needs CUDA; training in full precision")
        return "no"
    if requested == "bf16" and torch.cuda.is_available() and not torch.cuda.is_bf16_supported():
        log.warning("this GPU has no bf16; training in full precision")
        return "no"
    return requested


def new_accelerator(mixed_precision: str) -> Accelerator:
    """An Accelerator for one training run. accelerate keeps its state per process and refuses a
    second Accelerator with another precision; a process that trains stage after stage (tests,
    notebooks) may need that, so the stale precision is dropped (the distributed state is kept)."""
    state = AcceleratorState._shared_state
    if state and state.get("_mixed_precision") != mixed_precision:
        AcceleratorState._reset_state()
    # cpu=True without CUDA: several processes (accelerate launch) then form a gloo process group.
    # Under DDP the gradients are views into its all-reduce buckets instead of a second copy of
    # them: 4 bytes per parameter less on every GPU (12 GiB at 3B; benchmarks/training_memory.py).
    accelerator = Accelerator(
        mixed_precision=mixed_precision,
        cpu=not torch.cuda.is_available(),
        kwargs_handlers=[DistributedDataParallelKwargs(gradient_as_bucket_view=True)],
    )
    check_sharding(accelerator.distributed_type, os.environ)
    return accelerator


def accumulation_steps(config: TrainConfig, nproc: int) -> int:
    """Micro-batches per process per optimizer step."""
    if config.global_batch_size is None:
        return config.grad_accum
    per_pass = config.micro_batch_size * nproc
    if config.global_batch_size % per_pass:
        raise ValueError(
            f"train config: global_batch_size {config.global_batch_size} is not a multiple of "
            f"micro_batch_size {config.micro_batch_size} x {nproc} process(es)"
        )
    return config.global_batch_size // per_pass


def latest_checkpoint(out_dir: Path) -> Path | None:
    root = Path(out_dir) / CHECKPOINTS
    if not root.is_dir():
        return None
    done = [p for p in step_dirs(root) if (p / STATE_FILE).is_file()]
    return done[-1] if done else None


def run_identity(
    config: TrainConfig, n: int, nproc: int, fingerprint: str, model, tokenizer, loss_fn=None
) -> dict:
    """What a checkpoint must match to be resumed: the config, the data (size and fingerprint),
    the process count, the starting weights, the tokenizer and the code of the loss and update."""
    from .code_identity import code_identity

    return {
        "code": code_identity(loss_fn),
        "config": asdict(config),
        "n": n,
        "processes": nproc,
        "fingerprint": fingerprint,
        "start_model": state_dict_sha256(model.state_dict()),
        "tokenizer": tokenizer_sha256(tokenizer),
    }


def train(
    model,
    tokenizer,
    dataset,
    collate_fn: Callable,
    loss_fn: Callable,
    config: TrainConfig,
    out_dir: str | os.PathLike,
    *,
    lengths=None,
    sample_weights=None,
    fingerprint: str = "",
    progress: bool = True,
) -> dict:
    """Train `model` on `dataset` and save it (with `tokenizer`) into `out_dir`; returns a summary.

    `lengths` (per example) enables length-grouped batches; `sample_weights` makes every epoch n
    weighted draws with replacement instead of a permutation. `fingerprint` identifies the data;
    a checkpoint written with other data, config, starting weights or tokenizer is set aside.
    """
    out = Path(out_dir)
    ckpt_root = out / CHECKPOINTS
    mixed = effective_mixed_precision(config.mixed_precision)
    accelerator = new_accelerator(mixed)
    nproc, rank = accelerator.num_processes, accelerator.process_index
    set_seed(config.seed)

    n = len(dataset)
    if n == 0:
        raise ValueError("train: empty dataset")
    micro_per_epoch = math.ceil(n / config.micro_batch_size)
    grad_accum = accumulation_steps(config, nproc)
    per_step = grad_accum * nproc
    steps_per_epoch = math.ceil(micro_per_epoch / per_step)
    total = config.max_steps or config.epochs * steps_per_epoch
    warmup = config.warmup_steps or round(config.warmup_ratio * total)
    run_id = run_identity(config, n, nproc, fingerprint, model, tokenizer, loss_fn)

    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.lr,
        betas=(config.beta1, config.beta2),
    )
    # Stepped by us once per optimizer step (accelerate's wrapper would step it nproc times).
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_lambda(total, warmup, config.schedule, config.min_lr_ratio)
    )
    model, optimizer = accelerator.prepare(model, optimizer)
    if isinstance(model, torch.nn.parallel.DistributedDataParallel):
        log.info(
            "data parallel over %d processes, gradient_as_bucket_view=%s",
            nproc,
            model.gradient_as_bucket_view,
        )

    step, elapsed_before = 0, 0.0
    if accelerator.is_main_process:
        find_resumable(out, run_id, out / LOG_FILE)  # sets aside corrupt and foreign checkpoints
    accelerator.wait_for_everyone()
    resume_from = latest_checkpoint(out)
    if resume_from is not None:
        state = load_checkpoint(accelerator, model, optimizer, scheduler, resume_from)
        step, elapsed_before = state["step"], state["elapsed"]
        log.info("resuming from %s (step %d of %d)", resume_from, step, total)
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        for tmp in ckpt_root.glob(".step-*.tmp") if ckpt_root.is_dir() else ():
            shutil.rmtree(tmp)  # left by a run killed while writing a checkpoint
        _truncate_log(out / LOG_FILE, step)

    t0 = time.perf_counter()
    window = {"loss": 0.0, "steps": 0, "tokens": 0, "t": t0}
    bar = progress_bar(
        total=total,
        initial=step,
        desc="train",
        enabled=progress and accelerator.is_main_process,
        mininterval=0.5,
    )
    epoch_cache: tuple[int, list] | None = None
    model.train()
    while step < total:
        epoch, in_epoch = divmod(step, steps_per_epoch)
        if epoch_cache is None or epoch_cache[0] != epoch:
            batches = epoch_batches(
                n,
                config.micro_batch_size,
                config.seed,
                epoch,
                lengths if config.group_by_length else None,
                sample_weights,
            )
            if nproc > 1 and len(batches) % per_step:  # every process needs the same step count
                batches += batches[: per_step - len(batches) % per_step]
            epoch_cache = (epoch, batches)
        group = epoch_cache[1][in_epoch * per_step : (in_epoch + 1) * per_step][rank::nproc]

        step_loss, metrics_sum, tokens = 0.0, {}, 0
        for i, idx in enumerate(group):
            batch = {
                k: v.to(accelerator.device) if torch.is_tensor(v) else v
                for k, v in collate_fn([dataset[j] for j in idx]).items()
            }
            last = i == len(group) - 1
            # accelerate's own accumulation flag: backends that step inside backward (DeepSpeed)
            # and AcceleratedOptimizer read it; only the last micro-batch of a step syncs
            accelerator.gradient_state._set_sync_gradients(last)
            sync = nullcontext() if last else accelerator.no_sync(model)
            with sync:
                loss, metrics = loss_fn(model, batch)
                if not torch.isfinite(loss.detach()).all():
                    raise FloatingPointError(
                        f"non-finite loss {loss.item()} at step {step + 1} (micro-batch {i})"
                    )
                accelerator.backward(loss / len(group))
            step_loss += loss.item() / len(group)
            for k, v in metrics.items():
                metrics_sum[k] = metrics_sum.get(k, 0.0) + float(v) / len(group)
            tokens += int(batch["attention_mask"].sum()) if "attention_mask" in batch else 0
        if nproc > 1:  # log the loss of the global batch, not of this rank's share
            step_loss = float(accelerator.reduce(torch.tensor(step_loss, device=accelerator.device), "mean"))
        max_norm = config.max_grad_norm if config.max_grad_norm else float("inf")
        grad_norm = float(accelerator.clip_grad_norm_(model.parameters(), max_norm))
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        if not accelerator.optimizer_step_was_skipped:
            scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        bar.update(1)

        window["loss"] += step_loss
        window["steps"] += 1
        window["tokens"] += tokens * nproc
        if step % config.log_every == 0 or step == total or step == 1:
            now = time.perf_counter()
            row = {
                "step": step,
                "epoch": epoch,
                "loss": window["loss"] / window["steps"],
                "lr": lr,
                "grad_norm": grad_norm,
                "tokens_per_s": window["tokens"] / max(now - window["t"], 1e-9),
                "elapsed": elapsed_before + now - t0,
                **metrics_sum,
            }
            if accelerator.is_main_process:
                with open(out / LOG_FILE, "a", encoding="utf-8") as f:
                    f.write(json.dumps(row) + "\n")
            bar.set_postfix(loss=f"{row['loss']:.3f}")
            window = {"loss": 0.0, "steps": 0, "tokens": 0, "t": now}
        if config.checkpoint_every and step % config.checkpoint_every == 0 and step < total:
            save_checkpoint(
                accelerator,
                model,
                optimizer,
                scheduler,
                ckpt_root,
                step,
                {"elapsed": elapsed_before + time.perf_counter() - t0, "run": run_id},
                config.keep_checkpoints,
            )
    bar.close()

    _save_final(accelerator, model, tokenizer, out)
    elapsed = elapsed_before + time.perf_counter() - t0
    if accelerator.is_main_process and ckpt_root.exists():
        shutil.rmtree(ckpt_root)  # only after the final model is safely on disk
    accelerator.wait_for_everyone()
    return {
        "steps": total,
        "steps_per_epoch": steps_per_epoch,
        "warmup_steps": warmup,
        "examples": n,
        "mixed_precision": mixed,
        "processes": nproc,
        "grad_accum": grad_accum,
        "resumed_from_step": int(resume_from.name.split("-")[1]) if resume_from else None,
        "elapsed_s": elapsed,
    }


def _save_final(accelerator, model, tokenizer, out: Path) -> None:
    """save_pretrained into a temp dir, then move the files into `out` one by one."""
    accelerator.wait_for_everyone()
    tmp = out / ".final.tmp"
    state_dict = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        unwrapped = accelerator.unwrap_model(model)
        unwrapped.save_pretrained(tmp, state_dict=state_dict, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
        tmp.rmdir()
    accelerator.wait_for_everyone()


def _truncate_log(path: Path, step: int) -> None:
    """Drop log rows past `step`: a killed run may have logged steps its checkpoint lacks. A torn
    last line (the run was killed while writing it) is dropped with a warning; a malformed line
    before it is an error naming the line."""
    if not path.exists():
        return
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    keep = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            if all(not rest.strip() for rest in lines[lineno:]):
                log.warning("%s:%d: dropped a torn last line (%s)", path, lineno, e.msg)
                continue
            raise ValueError(f"{path}:{lineno}: malformed training log line ({e.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("step"), int):
            log.warning("%s:%d: dropped a training-log row without a step", path, lineno)
            continue
        if row["step"] <= step:
            keep.append(line)
    write_text(path, "".join(line + "\n" for line in keep))
