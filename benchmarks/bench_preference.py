"""HDPO training-step throughput (pairs/s) of our preference trainer vs TRL's DPOTrainer.

Same model (a LlamaForCausalLM of a few million parameters, identical initial weights), same
pairs (train records of the embedded corpus: profile prompt, human answer vs another record's
answer, eos on both sides), same micro-batch size, one process, same torch threads, measured in
one run. Throughput is counted between the end of step `--warmup` and the end of the last step
(no setup, dataset preparation, reference precompute or final save inside the timed window):

- ours      HDPO (λ, γ_sft, pair weights all on) in `polyalign.train.trainer.train` with the
            cached reference log-probs: one concatenated forward per micro-batch, no reference
            model (the cache is built once before training; its time is printed separately);
- TRL       `trl.DPOTrainer` 1.16, default settings (a reference model forward every step)
            except gradient checkpointing, which TRL turns on by default and is switched off
            here as in our trainer (it would cost TRL an extra forward per step);
- TRL+pre   `DPOTrainer(precompute_ref_log_probs=True)`, for an apples-to-apples view of the
            per-step cost once the reference forward is gone on both sides.

Step boundaries: the start of each micro-batch's loss call in ours (grad_accum 1, so it also
ends the previous step: collation, forward, backward, optimizer), TRL's `on_step_end` callback.
Both wall time and process CPU time (all threads) are taken; pairs/s is the batch size over the
median step time; each trainer's fastest of `--repeats` interleaved runs is kept. On a machine
shared with other jobs the CPU-time ratio is the meaningful one.

    python benchmarks/bench_preference.py [--steps 12] [--warmup 3] [--batch 8] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

from polyalign.config import fill_defaults
from polyalign.models import save_model, train_tokenizer
from polyalign.models.tokenizer import record_texts
from polyalign.preference.config import loss_settings, preference_settings
from polyalign.preference.examples import collate_pairs, tokenize_pairs
from polyalign.preference.reference_cache import attach_reference, compute_reference_logps
from polyalign.preference.train import preference_loss
from polyalign.prompts import render_prompt
from polyalign.train.trainer import TrainConfig, train
from polyalign.train.weights import pair_weights

ROOT = Path(__file__).resolve().parents[1]
MODEL = {"vocab_size": 8000, "hidden_size": 256, "num_layers": 4, "num_heads": 4, "intermediate_size": 688}
MAX_PROMPT_TOKENS, MAX_LENGTH = 64, 128


def train_records() -> list[dict]:
    """results/corpus/train.jsonl when the pipeline has run, else the corpus records that
    benchmarks/bench_supervised.py builds from the installed corpus packages."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_supervised import load_data

    train_split, _, source = load_data()
    print(f"records: {source}, {len(train_split)} train", flush=True)
    return [r for r in train_split if r["human_answer"].strip()]


def build_pairs_for_bench(records, tokenizer, n_pairs: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    chosen_idx = rng.choice(len(records), size=n_pairs, replace=False)
    pairs = []
    for i in chosen_idx:
        r = records[i]
        other = records[(i + len(records) // 2) % len(records)]
        if other["human_answer"] == r["human_answer"]:
            continue
        prompt = render_prompt(r, tokenizer, None, "profile", r["length_bin"], MAX_PROMPT_TOKENS, 4)
        pairs.append(
            {
                "id": r["id"],
                "bucket_id": r["bucket_id"],
                "language": r["language"],
                "prompt": prompt,
                "chosen": r["human_answer"],
                "rejected": other["human_answer"],
                "rejected_finished": True,
                "s_pos": float(rng.uniform(0, 0.5)),
                "s_neg": float(rng.uniform(0, 1.5)),
            }
        )
    w = pair_weights(
        [p["bucket_id"] for p in pairs],
        [p["language"] for p in pairs],
        [p["s_pos"] for p in pairs],
        [p["s_neg"] for p in pairs],
    )
    for p, wi in zip(pairs, w):
        p["weight"] = float(wi)
    return pairs


def build_start_model(tokenizer, out_dir: Path):
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=MODEL["hidden_size"],
        intermediate_size=MODEL["intermediate_size"],
        num_hidden_layers=MODEL["num_layers"],
        num_attention_heads=MODEL["num_heads"],
        num_key_value_heads=MODEL["num_heads"],
        max_position_embeddings=MAX_LENGTH,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    save_model(model, tokenizer, out_dir)
    return sum(p.numel() for p in model.parameters())


def load(start: Path):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(start), dtype=torch.float32, attn_implementation="sdpa")


class StepClock:
    """Wall and process-CPU time at step boundaries. Process CPU time (all threads) is what a
    step costs however many other jobs share the machine; wall time is what a user waits."""

    def __init__(self):
        self.wall, self.cpu = {}, {}

    def mark(self, step: int) -> None:
        self.wall[step], self.cpu[step] = time.perf_counter(), time.process_time()

    def rates(self, args) -> dict:
        steps = range(args.warmup + 1, args.warmup + args.steps + 1)
        wall = np.median([self.wall[s] - self.wall[s - 1] for s in steps])
        cpu = np.median([self.cpu[s] - self.cpu[s - 1] for s in steps])
        return {
            "pairs_per_s": args.batch / float(wall),
            "step_s": float(wall),
            "pairs_per_cpu_s": args.batch / float(cpu),
            "step_cpu_s": float(cpu),
        }


def run_ours(start, tokenizer, pairs, args, tmp: Path, group_by_length: bool) -> dict:
    model = load(start)
    items = tokenize_pairs(pairs, tokenizer, MAX_LENGTH)
    t0 = time.perf_counter()
    attach_reference(
        items, {r["id"]: r for r in compute_reference_logps(model, items, tokenizer.pad_token_id, 32)}
    )
    ref_s = time.perf_counter() - t0
    model.train()
    tcfg = TrainConfig(
        lr=1e-4,
        schedule="constant",
        micro_batch_size=args.batch,
        grad_accum=1,
        max_steps=args.warmup + args.steps + 1,
        log_every=1,
        checkpoint_every=0,
        seed=0,
        group_by_length=group_by_length,
        weight_decay=0.0,
        beta2=0.999,
    )
    clock, loss = (
        StepClock(),
        partial(preference_loss, **loss_settings(preference_settings(fill_defaults({}), "hdpo"))),
    )
    calls = iter(range(10**9))

    def timed_loss(model, batch):  # the start of micro-batch s+1 is the end of step s (grad_accum 1)
        clock.mark(next(calls))
        return loss(model, batch)

    out = tmp / f"ours_{int(group_by_length)}"
    train(
        model,
        tokenizer,
        items,
        partial(
            collate_pairs,
            pad_id=tokenizer.pad_token_id,
            shared_prompt=preference_settings(fill_defaults({}), "hdpo").shared_prompt,
        ),
        timed_loss,
        tcfg,
        out,
        progress=False,
    )
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    return {
        **clock.rates(args),
        "ref_precompute_s": ref_s,
        "last": {k: log[-1][k] for k in ("loss", "accuracy", "reward_margin")},
    }


def run_trl(start, tokenizer, pairs, args, tmp: Path, precompute: bool) -> dict:
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import DPOConfig, DPOTrainer

    clock = StepClock()

    class Marks(TrainerCallback):
        def on_step_end(self, a, state, control, **kw):
            clock.mark(state.global_step)

    data = Dataset.from_list(
        [{"prompt": p["prompt"], "chosen": p["chosen"], "rejected": p["rejected"]} for p in pairs]
    )
    cfg = DPOConfig(
        output_dir=str(tmp / f"trl_{int(precompute)}"),
        per_device_train_batch_size=args.batch,
        gradient_accumulation_steps=1,
        max_steps=args.warmup + args.steps,
        learning_rate=1e-4,
        lr_scheduler_type="constant",
        warmup_steps=0,
        beta=0.1,
        loss_type=["sigmoid"],
        max_length=MAX_LENGTH,
        logging_steps=args.warmup + args.steps,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        bf16=False,
        fp16=False,
        dataloader_num_workers=0,
        seed=0,
        precompute_ref_log_probs=precompute,
        precompute_ref_batch_size=32,
        disable_dropout=True,
        max_grad_norm=1.0,
        gradient_checkpointing=False,  # TRL defaults to True; ours does not
        disable_tqdm=True,
    )
    t0 = time.perf_counter()
    trainer = DPOTrainer(
        model=load(start),
        ref_model=None if precompute else load(start),
        args=cfg,
        train_dataset=data,
        processing_class=tokenizer,
        callbacks=[Marks()],
    )
    setup_s = time.perf_counter() - t0
    trainer.train()
    return {**clock.rates(args), "setup_s": setup_s}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=12, help="timed optimizer steps")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--batch", type=int, default=8, help="pairs per micro-batch (both trainers)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2, help="interleaved repeats of every trainer")
    ap.add_argument("--skip-precompute", action="store_true", help="leave out the TRL+pre row")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    records = train_records()
    tokenizer = train_tokenizer(record_texts(records), MODEL["vocab_size"], 2)
    n_pairs = args.batch * (args.warmup + args.steps + 1)  # one epoch: every pair seen once
    pairs = build_pairs_for_bench(records, tokenizer, n_pairs + 16)[:n_pairs]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = tmp / "start"
        n_params = build_start_model(tokenizer, start)
        lengths = [it.row_length(False) for it in tokenize_pairs(pairs, tokenizer, MAX_LENGTH)]
        print(
            f"model: {n_params / 1e6:.2f}M parameters, vocab {len(tokenizer)}; {len(pairs)} pairs, "
            f"sequence length mean {np.mean(lengths):.0f} (max {max(lengths)}); batch {args.batch} pairs; "
            f"torch threads {args.threads}; device cpu",
            flush=True,
        )
        runs = {
            "ours (HDPO, cached ref)": lambda: run_ours(start, tokenizer, pairs, args, tmp, True),
            "ours, no length grouping": lambda: run_ours(start, tokenizer, pairs, args, tmp, False),
            "TRL DPOTrainer (default)": lambda: run_trl(start, tokenizer, pairs, args, tmp, False),
        }
        if not args.skip_precompute:
            runs["TRL DPOTrainer, precompute_ref"] = lambda: run_trl(start, tokenizer, pairs, args, tmp, True)
        rows = {}
        for rep in range(args.repeats):  # interleaved repeats; the fastest repeat of each is kept
            for name, fn in runs.items():
                r = fn()
                print(f"repeat {rep}: {name}: {r['pairs_per_s']:.2f} pairs/s", flush=True)
                if name not in rows or r["pairs_per_s"] > rows[name]["pairs_per_s"]:
                    rows[name] = r
    base = rows["TRL DPOTrainer (default)"]
    print(
        f"\n{'trainer':<32}{'pairs/s':>9}{'s/step':>8}{'vs TRL':>8}{'pairs/cpu-s':>13}{'cpu-s/step':>11}{'vs TRL':>8}"
    )
    for name, r in rows.items():
        print(
            f"{name:<32}{r['pairs_per_s']:>9.2f}{r['step_s']:>8.2f}{r['pairs_per_s'] / base['pairs_per_s']:>7.2f}x"
            f"{r['pairs_per_cpu_s']:>13.2f}{r['step_cpu_s']:>11.2f}"
            f"{r['pairs_per_cpu_s'] / base['pairs_per_cpu_s']:>7.2f}x"
        )
    ours = rows["ours (HDPO, cached ref)"]
    print(
        f"\nratio ours / TRL default: {ours['pairs_per_s'] / base['pairs_per_s']:.2f}x wall, "
        f"{ours['pairs_per_cpu_s'] / base['pairs_per_cpu_s']:.2f}x CPU time (target >= 1.5x); reference "
        f"precompute (once per pair set, outside the timed window): {ours['ref_precompute_s']:.1f}s"
    )


if __name__ == "__main__":
    sys.exit(main())
