"""Batched generation (`polyalign.generation.generate.generate_ids`: length-sorted, left-padded batches,
KV cache) against one prompt at a time through plain `model.generate`, on the same model and
prompts, greedy decoding with a fixed number of new tokens. Prints both timings, the speed-up
and how many outputs agree token for token.

The model is the embedded default architecture (randomly initialised unless --model names a
trained directory); prompts are test-split prompts of results/corpus, or of the realistic
records of bench_supervised.py when the corpus is absent.

    python benchmarks/bench_generation.py [--n 128] [--batch-size 64] [--threads 1] [--model DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from bench_supervised import load_data

from polyalign.config import block_defaults, fill_defaults
from polyalign.generation.decoding import generate_unbatched
from polyalign.generation.generate import generate_ids, generation_settings
from polyalign.models import build_model, build_tokenizer, load_model, model_settings
from polyalign.prompts import encode_prompt, prompt_scaffold_texts, render_prompt

GENERATION_DEFAULTS = block_defaults("generation")
PROMPT_DEFAULTS = block_defaults("prompt")


def plain_prompts(records, tok) -> list[list[int]]:
    """Token ids of each record's plain prompt at the default prompt budget."""
    return [
        encode_prompt(
            render_prompt(
                r,
                tok,
                None,
                "plain",
                None,
                PROMPT_DEFAULTS["max_prompt_tokens"],
                PROMPT_DEFAULTS["max_history_turns"],
            ),
            tok,
        )
        for r in records
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=128, help="number of prompts")
    ap.add_argument("--batch-size", type=int, default=GENERATION_DEFAULTS["batch_size"])
    ap.add_argument("--max-new-tokens", type=int, default=GENERATION_DEFAULTS["max_new_tokens"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--model", help="a trained model directory (default: the embedded architecture, random init)"
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    train, test, source = load_data()
    config = fill_defaults({})
    mcfg = model_settings(config["model"])
    if args.model:
        model, tok = load_model(Path(args.model), mcfg)
    else:
        tok = build_tokenizer(mcfg, train, prompt_scaffold_texts())
        model = build_model(mcfg, tok).eval()
    prompts = plain_prompts(test[: args.n], tok)
    # Never stop early: both paths do exactly max_new_tokens steps per prompt.
    eos = [tok.pad_token_id + 10**6]
    model.generation_config.eos_token_id = eos
    gcfg = generation_settings(
        config, {"do_sample": False, "batch_size": args.batch_size, "max_new_tokens": args.max_new_tokens}
    )
    print(
        f"data: {source}; {len(prompts)} prompts, mean {sum(map(len, prompts)) / len(prompts):.1f} tokens; "
        f"{sum(p.numel() for p in model.parameters()):,} parameters; {args.threads} thread(s)"
    )

    generate_ids(model, prompts[:4], [0] * 4, gcfg, tok.pad_token_id, eos)  # warm-up
    t0 = time.perf_counter()
    batched = generate_ids(model, prompts, [0] * len(prompts), gcfg, tok.pad_token_id, eos)
    t_batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    single = generate_unbatched(model, tok, prompts, gcfg)
    t_single = time.perf_counter() - t0

    n_tokens = len(prompts) * args.max_new_tokens
    same = sum(ids == ref for (ids, _), ref in zip(batched, single))
    print(f"batched (batch {args.batch_size}): {t_batched:7.2f} s  {n_tokens / t_batched:8.0f} tokens/s")
    print(f"one at a time:        {t_single:7.2f} s  {n_tokens / t_single:8.0f} tokens/s")
    print(f"speed-up: {t_single / t_batched:.1f}x; identical outputs: {same}/{len(prompts)}")


if __name__ == "__main__":
    sys.exit(main())
