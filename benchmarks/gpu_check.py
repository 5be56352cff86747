"""GPU check of the paper-scale code paths, on one GPU in a few minutes.

On a randomly initialised model of Qwen2.5-1.5B's shape (28 layers, hidden 1536, GQA 12/2 heads,
MLP 8960, vocabulary 151936, tied embeddings), bf16 autocast over fp32 master weights as the
training stages run:

1. SFT tokens/s through `polyalign.train.trainer.train` with the SFT loss, and MFU =
   6 · N · tokens/s / the GPU's peak bf16 dense FLOP/s (`--peak-tflops`, 989 for H100/H200 SXM;
   attention FLOPs are left out of the numerator, so this slightly understates the true MFU);
2. HDPO pairs/s (our trainer, cached reference log-probs) against TRL's `DPOTrainer` (default:
   a reference forward every step) with the same model weights, pairs and micro-batch;
3. forward-only tokens/s (no gradients: features, reference log-probs, judges, detectors);
4. decode step time with `polyalign.generation.generate.generate_ids` (bf16 weights, sampling) on the pilot
   model's shape (Qwen2.5-0.5B) at the pilot batch and on the paper model's at the paper batch,
   and from it tokens/s of the static and the continuous decode loop for a realistic length mix;
5. peak GPU memory of every check.

Training checks run with gradient checkpointing, as both GPU profiles do. The JSON (`--out`,
default benchmarks/gpu_check.json) carries a "costs" block that `python -m polyalign.estimate`
reads in place of its documented defaults (docs/paper_scale.md).

Targets (docs/paper_scale.md): SFT MFU >= 35 % on H200-class hardware, HDPO >= 1.2x TRL pairs/s.
`--tiny` runs the same code on a tiny model on the CPU (a smoke check of the script itself).

    python benchmarks/gpu_check.py [--out benchmarks/gpu_check.json]
    python benchmarks/gpu_check.py --tiny
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

from polyalign.config import fill_defaults
from polyalign.estimate.costs import GC_RECOMPUTE, Costs
from polyalign.estimate.inputs import ModelShape
from polyalign.estimate.stages import Rows, decode_seconds
from polyalign.models import train_tokenizer
from polyalign.preference.config import loss_settings, preference_settings
from polyalign.preference.examples import collate_pairs, tokenize_pairs
from polyalign.preference.reference_cache import attach_reference, compute_reference_logps
from polyalign.preference.train import preference_loss
from polyalign.train.data import collate, make_example
from polyalign.train.sft import sft_loss
from polyalign.train.trainer import TrainConfig, train

QWEN25_15B = {
    "hidden_size": 1536,
    "intermediate_size": 8960,
    "num_hidden_layers": 28,
    "num_attention_heads": 12,
    "num_key_value_heads": 2,
    "vocab_size": 151936,
    "tie_word_embeddings": True,
    "max_position_embeddings": 32768,
    "rope_theta": 1000000.0,
}
QWEN25_05B = {
    **QWEN25_15B,
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
}
TINY = {
    **QWEN25_15B,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 2048,
    "max_position_embeddings": 4096,
}
WORDS = (
    "the of and to in is that for it as was with be by on not he this are or his from at which but have an "
    "they you were her she there been one all we their has would when if so no will more about can said up "
    "天 地 人 你 我 他 的 是 在 有 和 了 不 这 个 们 中 来 上 大 为 到 说 国 时 要 就 出 会 可 也 对 生 能"
).split()


def text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def make_model(shape: dict, tokenizer, seed: int = 0):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    cfg = Qwen2Config(
        **{**shape, "vocab_size": max(shape["vocab_size"], len(tokenizer))},
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(seed)
    return Qwen2ForCausalLM(cfg)


def pair_tokens(item, shared_prompt: bool) -> int:
    """Tokens a pair (PairExample) runs: both rows, or its one shared-prompt row."""
    if shared_prompt:
        return item.row_length(True)
    return len(item.chosen.input_ids) + len(item.rejected.input_ids)


def peak_memory_gb(device) -> float | None:
    """Peak GPU memory since the last reset (None on the CPU)."""
    if device.type != "cuda":
        return None
    peak = torch.cuda.max_memory_allocated() / 2**30
    torch.cuda.reset_peak_memory_stats()
    return peak


def shape_of(model) -> ModelShape:
    c = model.config
    return ModelShape(
        sum(p.numel() for p in model.parameters()),
        c.num_hidden_layers,
        c.num_key_value_heads,
        c.hidden_size // c.num_attention_heads,
    )


def timed_rates(log_rows: list[dict], warmup: int, key: str) -> float:
    vals = [r[key] for r in log_rows if r["step"] > warmup]
    return float(np.median(vals))


def check_sft(shape, tokenizer, args, device, tmp: Path) -> dict:
    rng = random.Random(0)
    steps = args.warmup + args.steps
    n = args.batch * steps
    examples = []
    for i in range(n):  # prompt and answer ids of fixed lengths: no padding, every token counted
        prompt = tokenizer(text(rng, args.seq), add_special_tokens=False)["input_ids"][: args.seq // 2]
        answer = tokenizer(text(rng, args.seq), add_special_tokens=False)["input_ids"][: args.seq // 2 - 1]
        examples.append(make_example(f"r{i}", prompt, answer, tokenizer.eos_token_id, args.seq, False))
    model = make_model(shape, tokenizer)
    model.gradient_checkpointing_enable()
    n_params = sum(p.numel() for p in model.parameters())
    tcfg = TrainConfig(
        lr=1e-5,
        micro_batch_size=args.batch,
        max_steps=steps,
        log_every=1,
        checkpoint_every=0,
        mixed_precision="bf16" if device.type == "cuda" else "no",
        group_by_length=False,
    )
    train(
        model,
        tokenizer,
        examples,
        partial(collate, pad_id=tokenizer.pad_token_id, padding_side="left"),
        sft_loss,
        tcfg,
        tmp / "sft",
        progress=False,
    )
    rows = [json.loads(line) for line in (tmp / "sft" / "train_log.jsonl").read_text().splitlines()]
    tps = timed_rates(rows, args.warmup, "tokens_per_s")
    return {
        "parameters": n_params,
        "tokens_per_s": tps,
        "mfu": 6 * n_params * tps / (args.peak_tflops * 1e12),
        "hardware_mfu": 6 * GC_RECOMPUTE * n_params * tps / (args.peak_tflops * 1e12),
        "gradient_checkpointing": True,
        "seq": args.seq,
        "micro_batch": args.batch,
        "peak_memory_gb": peak_memory_gb(device),
    }


def bench_pairs(tokenizer, n: int, seq: int) -> list[dict]:
    rng = random.Random(1)
    pairs = []
    for i in range(n):
        pairs.append(
            {
                "id": f"p{i}",
                "bucket_id": "en|single|qa|short",
                "language": "en",
                "prompt": text(rng, seq // 2),
                "chosen": text(rng, seq // 4),
                "rejected": text(rng, seq // 4),
                "rejected_finished": True,
                "s_pos": 0.2,
                "s_neg": 0.8,
                "weight": 1.0 + (i % 3) * 0.5,
            }
        )
    return pairs


def check_hdpo_vs_trl(shape, tokenizer, args, device, tmp: Path) -> dict:
    from datasets import Dataset
    from transformers import TrainerCallback

    steps = args.warmup + args.steps
    pairs = bench_pairs(tokenizer, args.pair_batch * (steps + 1), args.seq)
    items = tokenize_pairs(pairs, tokenizer, args.seq)
    bf16 = device.type == "cuda"

    model = make_model(shape, tokenizer).to(device)
    model.gradient_checkpointing_enable()
    n_params = sum(p.numel() for p in model.parameters())
    attach_reference(
        items,
        {
            r["id"]: r
            for r in compute_reference_logps(
                model, items, tokenizer.pad_token_id, args.pair_batch, "bf16" if bf16 else "no"
            )
        },
    )
    model.train()
    tcfg = TrainConfig(
        lr=5e-7,
        schedule="constant",
        micro_batch_size=args.pair_batch,
        max_steps=steps,
        log_every=1,
        checkpoint_every=0,
        mixed_precision="bf16" if bf16 else "no",
        group_by_length=True,
    )
    marks: dict[int, float] = {}
    calls = iter(range(10**9))
    settings = preference_settings(fill_defaults({}), "hdpo")
    loss = partial(preference_loss, **loss_settings(settings))

    def timed(model, batch):  # the start of micro-batch s+1 ends step s (no accumulation)
        if device.type == "cuda":
            torch.cuda.synchronize()
        marks[next(calls)] = time.perf_counter()
        return loss(model, batch)

    train(
        model,
        tokenizer,
        items,
        partial(collate_pairs, pad_id=tokenizer.pad_token_id, shared_prompt=settings.shared_prompt),
        timed,
        tcfg,
        tmp / "hdpo",
        progress=False,
    )
    ours = args.pair_batch / float(
        np.median([marks[s] - marks[s - 1] for s in range(args.warmup + 1, steps)])
    )
    # the tokens a pair's row(s) hold: a shared-prompt row runs the prompt once, plus the bridge
    # token (train.logprobs), as the estimator counts them
    shared = settings.shared_prompt
    tokens_per_pair = float(np.mean([pair_tokens(i, shared) for i in items]))
    result = {
        "hdpo_pairs_per_s": ours,
        "tokens_per_pair": tokens_per_pair,
        "hardware_mfu": 6 * GC_RECOMPUTE * n_params * ours * tokens_per_pair / (args.peak_tflops * 1e12),
        "pair_batch": args.pair_batch,
        "peak_memory_gb": peak_memory_gb(device),
    }
    del model
    if args.skip_trl:
        return result
    from trl import DPOConfig, DPOTrainer  # the test extra; --skip-trl runs without it

    if device.type == "cuda":
        torch.cuda.empty_cache()

    trl_marks: dict[int, float] = {}

    class Marks(TrainerCallback):
        def on_step_end(self, a, state, control, **kw):
            if device.type == "cuda":
                torch.cuda.synchronize()
            trl_marks[state.global_step] = time.perf_counter()

    data = Dataset.from_list([{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in pairs])
    cfg = DPOConfig(
        output_dir=str(tmp / "trl"),
        per_device_train_batch_size=args.pair_batch,
        gradient_accumulation_steps=1,
        max_steps=steps,
        learning_rate=5e-7,
        lr_scheduler_type="constant",
        beta=0.1,
        loss_type=["sigmoid"],
        max_length=args.seq,
        save_strategy="no",
        report_to=[],
        use_cpu=not bf16,
        bf16=bf16,
        dataloader_num_workers=0,
        seed=0,
        disable_dropout=True,
        gradient_checkpointing=True,
        disable_tqdm=True,
        logging_steps=steps,
    )
    trainer = DPOTrainer(
        model=make_model(shape, tokenizer),
        ref_model=make_model(shape, tokenizer),
        args=cfg,
        train_dataset=data,
        processing_class=tokenizer,
        callbacks=[Marks()],
    )
    trainer.train()
    trl = args.pair_batch / float(
        np.median([trl_marks[s] - trl_marks[s - 1] for s in range(args.warmup + 1, steps + 1)])
    )
    return {**result, "trl_dpo_pairs_per_s": trl, "ratio": ours / trl}


@torch.no_grad()
def check_forward(shape, tokenizer, args, device) -> dict:
    """Forward-only tokens/s (bf16 weights) at SFT's batch and sequence length."""
    model = make_model(shape, tokenizer).to(
        device=device, dtype=torch.bfloat16 if device.type == "cuda" else None
    )
    model.eval()
    ids = torch.randint(0, len(tokenizer), (args.batch, args.seq), device=device)
    times = []
    for _ in range(args.warmup + args.steps):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        model(input_ids=ids, logits_to_keep=1)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    tps = args.batch * args.seq / float(np.median(times[args.warmup :]))
    n_params = sum(p.numel() for p in model.parameters())
    return {
        "tokens_per_s": tps,
        "mfu": 2 * n_params * tps / (args.peak_tflops * 1e12),
        "peak_memory_gb": peak_memory_gb(device),
    }


def check_decode(name, shape, tokenizer, args, device, batch: int, budget: int) -> dict:
    """Seconds per decode step of `generate_ids` at `batch` rows, every row active (random weights
    never stop: eos is -1), prefill removed by timing 1 and `gen_tokens` new tokens. Tokens/s of
    the static and continuous loops for a realistic length mix (a 60-token mean answer, 5 % of
    rows at the `budget`) follow from the measured step time (polyalign.estimate.stages)."""
    from polyalign.generation.decoding import GenerationSettings
    from polyalign.generation.generate import generate_ids

    rng = random.Random(2)
    model = make_model(shape, tokenizer).to(
        device=device, dtype=torch.bfloat16 if device.type == "cuda" else None
    )
    model.eval()
    prompt_len = args.seq // 4
    prompts = [
        tokenizer(text(rng, prompt_len), add_special_tokens=False)["input_ids"][:prompt_len]
        for _ in range(batch)
    ]

    def run(new_tokens: int) -> float:
        gcfg = GenerationSettings(
            max_new_tokens=new_tokens,
            cot_extra_tokens=0,
            length_check_quantile=None,
            do_sample=True,
            temperature=1.0,
            top_p=1.0,
            batch_size=batch,
            seed=0,
            num_samples=1,
            part_rows=batch,
            budget_quantile=None,
            budget_headroom=1.25,
            system_max_new_tokens={},
        )
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        generate_ids(model, prompts, list(range(batch)), gcfg, tokenizer.pad_token_id, [-1])
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    run(2)  # warm-up
    step = (run(args.gen_tokens) - run(1)) / (args.gen_tokens - 1)
    mshape = shape_of(model)
    prompt_tokens = float(np.mean([len(p) for p in prompts]))
    overhead = Costs().decode_overhead_from(mshape, batch, prompt_tokens + args.gen_tokens / 2, step)
    costs = Costs(decode_overhead_per_layer_s=overhead)
    rows = [Rows(10 * batch, prompt_tokens, 0.05 * budget + 0.95 * min(60, budget))]
    loops = {}
    for loop in ("static", "continuous"):
        seconds, _ = decode_seconds(costs, mshape, rows, budget, 0.05, batch, loop)
        loops[f"{loop}_tokens_per_s"] = rows[0].n * rows[0].response / seconds
    return {
        "model": name,
        "batch": batch,
        "context": prompt_tokens + args.gen_tokens / 2,
        "step_seconds": step,
        "tokens_per_s_all_rows_active": batch / step,
        "decode_overhead_per_layer_s": overhead,
        "budget": budget,
        **loops,
        "peak_memory_gb": peak_memory_gb(device),
    }


def costs_block(result: dict, peak_tflops: float) -> dict:
    """The estimator's costs (polyalign.estimate.costs.COST_KEYS) from the measurements."""
    costs = {
        "peak_tflops": peak_tflops,
        "train_mfu": result["sft"]["hardware_mfu"],
        "forward_mfu": result["forward"]["mfu"],
        "decode_overhead_per_layer_s": float(
            np.median([d["decode_overhead_per_layer_s"] for d in result["decode"]])
        ),
    }
    return {**costs, "preference_mfu": result["hdpo"]["hardware_mfu"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiny", action="store_true", help="a tiny model on the CPU (checks the script)")
    ap.add_argument("--steps", type=int, default=10, help="timed optimizer steps")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8, help="SFT micro-batch (sequences)")
    ap.add_argument("--seq", type=int, default=1024, help="tokens per SFT sequence / pair side")
    ap.add_argument("--pair-batch", type=int, default=8)
    ap.add_argument("--pilot-batch", type=int, default=256, help="config/pilot.yaml generation.batch_size")
    ap.add_argument("--paper-batch", type=int, default=64, help="config/paper.yaml generation.batch_size")
    ap.add_argument("--budget", type=int, default=768, help="generation.max_new_tokens of both profiles")
    ap.add_argument("--gen-tokens", type=int, default=128, help="decode steps timed per batch")
    ap.add_argument(
        "--peak-tflops", type=float, default=989.0, help="bf16 dense peak of the GPU (H100/H200 SXM: 989)"
    )
    ap.add_argument("--skip-trl", action="store_true")
    ap.add_argument(
        "--out", type=Path, default=Path("benchmarks/gpu_check.json"), help="the JSON the estimator reads"
    )
    args = ap.parse_args(argv)
    if args.tiny:
        args.steps, args.warmup, args.batch, args.seq = 3, 1, 4, 64
        args.pair_batch, args.pilot_batch, args.paper_batch, args.gen_tokens, args.budget = 4, 8, 4, 8, 16
    device = torch.device("cuda" if torch.cuda.is_available() and not args.tiny else "cpu")
    if device.type != "cuda" and not args.tiny:
        print("no GPU: run with --tiny to check the script on the CPU", file=sys.stderr)
        return 2
    shape = TINY if args.tiny else QWEN25_15B
    pilot_shape = TINY if args.tiny else QWEN25_05B
    rng = random.Random(3)
    tokenizer = train_tokenizer([text(rng, 50) for _ in range(400)], 1024, 2)
    t0 = time.perf_counter()
    result = {
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
        "tiny": args.tiny,
        "torch": torch.__version__,
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        result["sft"] = check_sft(shape, tokenizer, args, device, tmp)
        print(
            f"SFT: {result['sft']['tokens_per_s']:.0f} tokens/s, MFU {100 * result['sft']['mfu']:.1f} % "
            f"({result['sft']['parameters'] / 1e9:.2f} B parameters)",
            flush=True,
        )
        result["hdpo"] = check_hdpo_vs_trl(shape, tokenizer, args, device, tmp)
        trl = (
            f" vs TRL DPOTrainer {result['hdpo']['trl_dpo_pairs_per_s']:.2f} ({result['hdpo']['ratio']:.2f}x)"
            if "ratio" in result["hdpo"]
            else " (TRL skipped)"
        )
        print(f"HDPO: {result['hdpo']['hdpo_pairs_per_s']:.2f} pairs/s{trl}", flush=True)
        result["forward"] = check_forward(shape, tokenizer, args, device)
        print(f"forward: {result['forward']['tokens_per_s']:.0f} tokens/s", flush=True)
        result["decode"] = [
            check_decode(
                "pilot (Qwen2.5-0.5B shape)",
                pilot_shape,
                tokenizer,
                args,
                device,
                args.pilot_batch,
                args.budget,
            ),
            check_decode(
                "paper (Qwen2.5-1.5B shape)", shape, tokenizer, args, device, args.paper_batch, args.budget
            ),
        ]
        for d in result["decode"]:
            print(
                f"decode {d['model']} batch {d['batch']}: {1e3 * d['step_seconds']:.1f} ms/step, "
                f"static loop {d['static_tokens_per_s']:.0f} tokens/s, continuous {d['continuous_tokens_per_s']:.0f}",
                flush=True,
            )
    result["costs"] = costs_block(result, args.peak_tflops)
    result["seconds"] = time.perf_counter() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
