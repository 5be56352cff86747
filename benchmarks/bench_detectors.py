"""Time the three AI-text detectors at the embedded default's size (docs/detectors.md).

    python benchmarks/bench_detectors.py [--threads 1] [--seeds 3] [--systems 6] [--prompts 708]

Per seed: the zero-shot pass (Fast-DetectGPT + Binoculars: BaseLM and that seed's SFT once per
batch) over every system's test outputs and the validation + test human answers, and the trained
detector's fit on train-split features. Once: the Table 4 summary pooled over the seeds with its
1,000-resample two-level paired bootstrap. Models are
randomly initialised at the embedded config (vocab 3072, hidden 96, 3 layers); prompts and
responses are random token ids with the embedded lengths (prompt <= 96, response mean ~25 tokens).
Target (issue 10): all of it adds at most 2 minutes of wall time on 2 cores to the embedded run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from polyalign.detectors.summary import detector_summary
from polyalign.detectors.trained import train_detector
from polyalign.detectors.zero_shot import ModelPair, zero_shot_scores
from polyalign.features.lm_inputs import LMExample
from polyalign.features.store import FeatureTable


def tiny_model(seed: int) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=3072,
        hidden_size=96,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=256,
        max_position_embeddings=160,
    )
    return LlamaForCausalLM(cfg).eval().requires_grad_(False)


def examples(n: int, rng) -> list[LMExample]:
    out = []
    for _ in range(n):
        p, r = int(rng.integers(20, 97)), int(np.clip(rng.geometric(1 / 25), 1, 48))
        out.append(LMExample(rng.integers(4, 3072, p + r).tolist(), p))
    return out


def bench_summary(n_prompts: int, n_systems: int, n_seeds: int, rng) -> float:
    """The pooled Table 4 summary over `n_seeds` run seeds (one job for all seeds)."""
    langs = ["en"] * (n_prompts * 9 // 10) + ["zh"] * (n_prompts - n_prompts * 9 // 10)
    test = [(f"t{k}", lg) for k, lg in enumerate(langs)]
    val = [(f"v{k}", lg) for k, lg in enumerate(langs)]
    systems = [f"s{k}" for k in range(n_systems)]
    rows_by_seed = {}
    for seed in range(n_seeds):
        rows = []
        for det in ("fast_detectgpt", "binoculars", "trained"):
            for g, split, ids in [("human", "val", val), ("human", "test", test)] + [
                (s, "test", test) for s in systems
            ]:
                rows += [
                    {
                        "detector": det,
                        "system": g,
                        "split": split,
                        "id": i,
                        "language": lg,
                        "score": float(rng.normal()),
                    }
                    for i, lg in ids
                ]
        rows_by_seed[str(seed)] = rows
    aggregates = {s: {"en": 0.3, "zh": 0.3, "overall": 0.3} for s in systems}
    t0 = time.perf_counter()
    detector_summary(
        rows_by_seed,
        test,
        val,
        systems,
        ["fast_detectgpt", "binoculars", "trained"],
        {str(seed): aggregates for seed in range(n_seeds)},
        n_resamples=1000,
    )
    return time.perf_counter() - t0


def bench_trained(n_prompts: int, rng) -> float:
    ids = [f"p{k}" for k in range(n_prompts)]
    names = [f"f{k}" for k in range(40)]

    def table(shift):
        return FeatureTable(
            np.array(ids),
            names,
            rng.normal(shift, 1, (n_prompts, 40)),
            np.ones(n_prompts, bool),
            np.array(["b"] * n_prompts),
            np.array(["en"] * n_prompts),
            np.zeros(n_prompts, np.int64),
        )

    t0 = time.perf_counter()
    train_detector(table(0.0), {"sft": table(0.3), "bucket_sft": table(0.3)}, ids, seed=42)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--systems", type=int, default=6)
    ap.add_argument("--prompts", type=int, default=708)
    ap.add_argument("--train-prompts", type=int, default=5000)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    models = {"base": tiny_model(0), "sft": tiny_model(1)}
    pairs = {"fast_detectgpt": ModelPair("base", "sft"), "binoculars": ModelPair("base", "sft")}
    n = args.prompts * (args.systems + 2)  # systems + human validation + human test
    ex = examples(n, rng)
    c0, t0 = time.process_time(), time.perf_counter()
    out = zero_shot_scores(models, pairs, ex, batch_size=args.batch_size)
    t_zero = time.perf_counter() - t0
    c_zero = time.process_time() - c0
    c0 = time.process_time()
    t_trained = bench_trained(args.train_prompts, rng)
    c_trained = time.process_time() - c0
    c0 = time.process_time()
    t_summary = bench_summary(args.prompts, args.systems, args.seeds, rng)
    c_summary = time.process_time() - c0
    per_seed = t_zero + t_trained
    total_cpu = args.seeds * (c_zero + c_trained) + c_summary
    print(
        f"CPU seconds (the machine may be shared; CPU time is the load-independent figure): "
        f"zero-shot {c_zero:.1f} and trained fit {c_trained:.1f} per seed; pooled summary over "
        f"{args.seeds} seeds {c_summary:.1f}; total {total_cpu:.1f}"
    )
    print(f"threads {args.threads}; per seed: {n} responses, {int(out['n_tokens'].sum())} response tokens")
    print(
        f"  zero-shot (2 detectors, 2 forward passes per batch): {t_zero:6.1f} s ({n / t_zero:,.0f} responses/s)"
    )
    print(f"  trained detector fit ({args.train_prompts} prompts x 3 sources):  {t_trained:6.1f} s")
    print(
        f"  Table 4 summary pooled over {args.seeds} seeds (3 detectors, 1000 paired resamples): {t_summary:6.1f} s"
    )
    wall = args.seeds * per_seed / 2 + t_summary
    print(
        f"  per seed: {per_seed:.1f} s; {args.seeds} seeds + summary: "
        f"{args.seeds * per_seed + t_summary:.1f} job-seconds, ~{wall:.1f} s wall on 2 cores "
        "(per-seed jobs side by side, then the one summary job)"
    )


if __name__ == "__main__":
    main()
