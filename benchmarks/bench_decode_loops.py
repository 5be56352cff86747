"""The continuous decode loop (`polyalign.generation.generate.generate_ids`, what generation runs) against
the static loop it replaced (`polyalign.generation.decoding.decode_static_batches`: each batch steps until
its longest row ends), on the same model, prompts, seeds and sampling settings. Prints, per
loop, wall time, forward calls (prefills + decode steps), rows fed summed over decode steps,
generated tokens, and how many outputs agree token for token.

A trained model is what makes the comparison meaningful (random weights never stop early, so
every row runs to the budget and both loops do the same steps):

    python benchmarks/bench_decode_loops.py --model results/seed0/models/sft [--n 708] [--threads 2]

Prompts are the test split of results/corpus (plain prompts), or the realistic records of
bench_supervised.py when the corpus is absent; decoding uses the config's generation block
(sampled, T and top-p as configured) with its batch size and max_new_tokens unless given.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from bench_generation import plain_prompts
from bench_supervised import load_data

from polyalign.config import block_defaults, fill_defaults
from polyalign.generation.decoding import DecodeStats, decode_static_batches, eos_ids_of, row_seed
from polyalign.generation.generate import generate_ids, generation_settings
from polyalign.models import load_model, model_settings


def main() -> int:
    gen = block_defaults("generation")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="a trained model directory")
    ap.add_argument("--n", type=int, default=None, help="number of test prompts (default: all)")
    ap.add_argument("--batch-size", type=int, default=gen["batch_size"])
    ap.add_argument("--max-new-tokens", type=int, default=gen["max_new_tokens"])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    _, test, source = load_data()
    test = test[: args.n] if args.n else test
    config = fill_defaults({})
    model, tok = load_model(Path(args.model), model_settings(config["model"]))
    model.eval()
    prompts = plain_prompts(test, tok)
    gcfg = generation_settings(config, {"batch_size": args.batch_size, "max_new_tokens": args.max_new_tokens})
    seeds = [row_seed(gcfg.seed, r["id"], 0) for r in test]
    eos = eos_ids_of(model, tok)
    sampling = (gcfg.temperature, gcfg.top_p) if gcfg.do_sample else None
    print(
        f"data: {source}; {len(prompts)} prompts; model {args.model}; batch {gcfg.batch_size}, "
        f"max_new_tokens {gcfg.max_new_tokens}, sampled {gcfg.do_sample} (T {gcfg.temperature}, "
        f"top-p {gcfg.top_p}); {args.threads} thread(s)"
    )

    runs = {}
    for name in ("static", "continuous"):
        stats = DecodeStats()
        t0 = time.perf_counter()
        if name == "static":
            out = decode_static_batches(
                model,
                prompts,
                seeds,
                gcfg.max_new_tokens,
                batch_size=gcfg.batch_size,
                eos_ids=eos,
                pad_id=tok.pad_token_id,
                sampling=sampling,
                stats=stats,
            )
        else:
            out = generate_ids(model, prompts, seeds, gcfg, tok.pad_token_id, eos, stats=stats)
        runs[name] = (out, stats, time.perf_counter() - t0)
    for name, (_out, stats, seconds) in runs.items():
        print(
            f"{name:10s} {seconds:7.1f} s  forward calls {stats.forward_calls:6d} (decode steps "
            f"{stats.decode_steps}, prefills {stats.prefill_calls})  rows fed {stats.row_steps:8d}  "
            f"tokens {stats.tokens:7d}  {stats.tokens / seconds:7.0f} tokens/s"
        )
    (a, _, ta), (b, _, tb) = runs["static"], runs["continuous"]
    same = sum(x[0] == y[0] for x, y in zip(a, b))
    print(f"speed-up {ta / tb:.2f}x; identical outputs {same}/{len(prompts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
