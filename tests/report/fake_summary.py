"""A fixed pooled summary (as combine_metrics writes it: two run seeds) and matching replicates."""

import math

import numpy as np

from polyalign.evaluation.scope_metrics import HEADLINE_METRICS
from polyalign.evaluation.store import to_jsonable
from polyalign.evaluation.w1_bias import W1_METRICS

SYSTEMS = ("base", "cot", "sft", "bucket_sft", "dpo", "hdpo")
SEEDS = ["0", "1"]
BUCKETS = {
    "en|multi|dialogue|short": ("en", 30, True),
    "en|single|qa|short": ("en", 8, False),
    "zh|single|qa|short": ("zh", 25, True),
}


def ci(point, low, high):
    """A pooled interval; seed 0 lies 0.01 below the mean and seed 1 0.01 above."""
    nan = math.isnan(point)
    seeds = {
        s: {"point": point + d, "low": low + d, "high": high + d}
        if not nan
        else {"point": None, "low": None, "high": None}
        for s, d in zip(SEEDS, (-0.01, 0.01))
    }
    return {
        "point": point,
        "low": low,
        "high": high,
        "std": 0.01,
        "alpha": 0.05,
        "n_resamples": 100,
        "n_finite": 100,
        "seeds": seeds,
    }


def headline(k: int) -> dict:
    """System number k: QA-F1 0.1 + 0.1k, BNG 1.0 - 0.1k, G-MAUVE 0.5 + 0.05k, ..."""
    head = {m: ci(float("nan"), float("nan"), float("nan")) for m in HEADLINE_METRICS}
    head.update(
        {
            "qa_f1": ci(0.1 + 0.1 * k, 0.05 + 0.1 * k, 0.15 + 0.1 * k),
            "bng_macro": ci(1.0 - 0.1 * k, 0.9 - 0.1 * k, 1.1 - 0.1 * k),
            "g_mauve": ci(0.5 + 0.05 * k, 0.45 + 0.05 * k, 0.55 + 0.05 * k),
            "nuf": ci(0.2 + 0.05 * k, 0.1 + 0.05 * k, 0.3 + 0.05 * k),
            "aggregate": ci(0.3 + 0.05 * k, 0.25 + 0.05 * k, 0.35 + 0.05 * k),
            "language_fidelity": ci(1.0 - 0.1 * k, 0.9 - 0.1 * k, 1.0),
        }
    )
    return head


def summary() -> dict:
    per_bucket = {}
    for k, s in enumerate(SYSTEMS):
        per_bucket[s] = {
            b: {
                "language": lang,
                "track": b.split("|")[1],
                "n": n,
                "no_answer": n if s == "cot" else 0,  # CoT found no final answer
                "eligible": elig,
                "qa_f1": 0.1 * k,
                "bng": (0.5 + 0.1 * k) if elig else None,
                "nuf_point": [0.1 * k, 0.5] if elig else None,
                "on_frontier": elig,
            }
            for b, (lang, n, elig) in BUCKETS.items()
        }
    return to_jsonable(
        {
            "format": "polyalign.summary.v2",
            "systems": list(SYSTEMS),
            "seeds": SEEDS,
            "fingerprint": "f",
            "n_prompts": 63,
            "languages": {"en": 38, "zh": 25},
            "settings": {"min_bucket_size": 20},
            "bootstrap": {"alpha": 0.05, "n_resamples": 100, "seed": 42},
            "headline": {s: {"en": headline(k), "zh": headline(k)} for k, s in enumerate(SYSTEMS)},
            "per_bucket": per_bucket,
            # CoT found no final answer on any prompt of either seed; SFT missed 3 en answers
            "no_answer": {
                s: {
                    "en": {"k": 76 if s == "cot" else (3 if s == "sft" else 0), "n": 76},
                    "zh": {"k": 50 if s == "cot" else 0, "n": 50},
                }
                for s in SYSTEMS
            },
        }
    )


def replicates(per_seed: dict, languages=("en", "zh"), bias_bound: float = 0.05) -> dict:
    """per_seed: {system: {metric: [seed-0 replicates, seed-1 replicates]}}; every replicate
    applies one prompt draw to both seeds (evaluation.pooled's layout). Every W1-type metric
    gets the per-seed bias bound `bias_bound`."""
    return {
        "n_prompts": {lang: 63 for lang in languages},
        "seeds": SEEDS,
        "per_seed": {
            s: {lang: {m: np.asarray(v, dtype=float) for m, v in metrics.items()} for lang in languages}
            for s, metrics in per_seed.items()
        },
        "bias_bound": {
            s: {lang: {m: np.full(len(SEEDS), bias_bound) for m in W1_METRICS} for lang in languages}
            for s in per_seed
        },
    }
