"""Preference-step cost of `response_logps`: vocabulary projection at label positions only
(what the trainer and the reference cache use) vs full [B, T, V] logits + `sequence_nll`.

A random LlamaForCausalLM, a batch shaped like preference pairs (prompt share `--prompt-share`
of each row, right padding), one forward + backward per step; prints the median step time of
each path, the speed-up, and the largest difference of the summed log-probs between the two.
Runs on CUDA when available (`--precision bf16` uses autocast there), else on CPU.

    python benchmarks/bench_logprobs.py                                   # embedded-size model
    python benchmarks/bench_logprobs.py --hidden 1024 --layers 8 --vocab 32000 --batch 16 --length 512
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from contextlib import nullcontext

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from polyalign.train.logprobs import position_ids_from_mask, response_logps
from polyalign.train.losses import sequence_nll


def make_batch(batch: int, length: int, prompt_share: float, vocab: int, device, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, vocab, (batch, length), generator=g)
    mask = torch.ones(batch, length, dtype=torch.long)
    labels = ids.clone()
    for row in range(batch):
        used = int(length * (0.5 + 0.5 * row / max(1, batch - 1)))  # rows of different lengths
        prompt = int(used * prompt_share)
        mask[row, used:] = 0
        ids[row, used:] = 0
        labels[row, :prompt] = -100
        labels[row, used:] = -100
    return {k: v.to(device) for k, v in {"input_ids": ids, "attention_mask": mask, "labels": labels}.items()}


def full_logits_logps(model, input_ids, attention_mask, labels):
    logits = model(
        input_ids=input_ids,
        attention_mask=attention_mask,
        use_cache=False,
        position_ids=position_ids_from_mask(attention_mask),
    ).logits
    return -sequence_nll(logits, labels)[0]


def time_steps(fn, model, batch, steps: int, autocast, device) -> tuple[float, torch.Tensor]:
    times, out = [], None
    for i in range(steps + 2):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with autocast:
            out = fn(model, batch["input_ids"], batch["attention_mask"], batch["labels"])
        out.sum().backward()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i >= 2:  # two warm-up steps
            times.append(time.perf_counter() - t0)
        model.zero_grad(set_to_none=True)
    return statistics.median(times), out.detach().float()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hidden", type=int, default=96)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=256)
    ap.add_argument("--vocab", type=int, default=3072)
    ap.add_argument("--batch", type=int, default=64, help="rows (2K for K pairs)")
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--prompt-share", type=float, default=0.7)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--precision", choices=["no", "bf16"], default="no")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (CPU runs)")
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=args.vocab,
        hidden_size=args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        num_key_value_heads=args.heads,
        intermediate_size=args.intermediate,
        max_position_embeddings=max(512, args.length),
    )
    model = LlamaForCausalLM(cfg).to(device).train()
    batch = make_batch(args.batch, args.length, args.prompt_share, args.vocab, device)
    autocast = (
        torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        if args.precision == "bf16"
        else nullcontext()
    )
    fast_s, fast = time_steps(response_logps, model, batch, args.steps, autocast, device)
    full_s, full = time_steps(full_logits_logps, model, batch, args.steps, autocast, device)
    label_share = float((batch["labels"][:, 1:] != -100).float().mean())
    print(
        json.dumps(
            {
                "device": torch.cuda.get_device_name()
                if device.type == "cuda"
                else f"cpu ({args.threads} threads)",
                "precision": args.precision,
                "params": sum(p.numel() for p in model.parameters()),
                "batch": args.batch,
                "length": args.length,
                "label_share": round(label_share, 3),
                "label_positions_step_s": fast_s,
                "full_logits_step_s": full_s,
                "speedup": full_s / fast_s,
                "max_abs_logp_diff": float((fast - full).abs().max()),
                "max_rel_logp_diff": float(((fast - full).abs() / full.abs().clamp(min=1e-6)).max()),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
