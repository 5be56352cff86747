"""Time the pooled two-level bootstrap (every headline metric, MAUVE-based ones included) at the
size of the embedded default: 708 test prompts (634 en, 74 zh), 59 features, the embedded
corpus's bucket sizes, 7 systems x 3 seeds, 1000 resamples.

    python benchmarks/bench_pooled_bootstrap.py [--systems 7] [--seeds 3] [--resamples 1000]

Target (docs/evaluation.md): well under a minute on 2 CPU cores, so that the whole default run
with 3 seeds fits its 20-minute budget.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from polyalign.evaluation.pooled import pooled_replicates
from polyalign.evaluation.replicates import ResampleArrays

# test prompts per bucket of the embedded corpus (eligible: >= 10)
BUCKETS = {
    "en|multi|dialogue|long": 54,
    "en|multi|dialogue|medium": 211,
    "en|multi|dialogue|short": 195,
    "en|multi|dialogue|xlong": 42,
    "en|single|assistant|medium": 12,
    "en|single|assistant|short": 11,
    "en|single|assistant|xlong": 15,
    "en|single|dialogue|short": 14,
    "en|single|qa|short": 46,
    "en|other|small": 34,
    "zh|multi|dialogue|medium": 11,
    "zh|multi|dialogue|short": 19,
    "zh|single|dialogue|short": 13,
    "zh|single|qa|medium": 11,
    "zh|other|small": 20,
}
N_FEATURES, LATENT = 59, 64


def synthetic_arrays(rng: np.random.Generator) -> ResampleArrays:
    buckets = np.array([b for b, k in BUCKETS.items() for _ in range(k)])
    languages = np.array([b[:2] for b in buckets])
    n = buckets.size
    eligible_all = [b for b, k in BUCKETS.items() if k >= 10 and "other" not in b]
    scope_rows = {
        "overall": np.arange(n),
        "en": np.flatnonzero(languages == "en"),
        "zh": np.flatnonzero(languages == "zh"),
    }
    eligible = {
        "overall": eligible_all,
        "en": [b for b in eligible_all if b.startswith("en")],
        "zh": [b for b in eligible_all if b.startswith("zh")],
    }

    def labels(rows, k):
        h, g = np.full(n, -1), np.full(n, -1)
        h[rows], g[rows] = rng.integers(0, k, rows.size), rng.integers(0, k, rows.size)
        return {"human": h, "generated": g, "num_clusters": k}

    tdm = {}
    for scope in ("overall", "en"):
        rows = np.flatnonzero(np.isin(buckets, [b for b in eligible[scope] if "|multi|" in b]))
        tdm[scope] = {
            "rows": rows,
            **{z: rng.normal(size=(rows.size, LATENT)) for z in ("z_q", "z_h", "z_g")},
            "human": rng.gamma(2, size=(rows.size, 3)),
            "generated": rng.gamma(2, size=(rows.size, 3)),
        }
    return ResampleArrays(
        ids=[f"q{i:04d}" for i in range(n)],
        languages=languages,
        buckets=buckets,
        scores={k: rng.uniform(size=n) for k in ("em", "qa_f1", "rouge_l", "language_fidelity")},
        human_X=np.round(rng.gamma(2, size=(n, N_FEATURES)), 1),
        gen_X=np.round(rng.gamma(2.2, size=(n, N_FEATURES)), 1),
        human_valid=np.ones(n, bool),
        gen_valid=rng.uniform(size=n) > 0.02,
        covered=(rng.uniform(size=n) > 0.7).astype(float),
        human_E_ok=np.ones(n, bool),
        gen_E_ok=np.ones(n, bool),
        eligible=eligible,
        scope_rows=scope_rows,
        global_labels={s: labels(r, max(2, round(r.size / 10))) for s, r in scope_rows.items()},
        bucket_labels={
            b: labels(np.flatnonzero(buckets == b), max(2, round(BUCKETS[b] / 10))) for b in eligible_all
        },
        tdm=tdm,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, default=7)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    arrays = {
        f"system{k}": {s: synthetic_arrays(rng) for s in range(args.seeds)} for k in range(args.systems)
    }
    t0, c0 = time.perf_counter(), time.process_time()
    reps = pooled_replicates(arrays, args.resamples, seed=42)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    n_values = sum(
        v.size for scopes in reps["per_seed"].values() for m in scopes.values() for v in m.values()
    )
    print(
        f"pooled bootstrap: {args.systems} systems x {args.seeds} seeds x {args.resamples} "
        f"resamples, {n_values} replicate values in {seconds:.1f} s wall, {cpu:.1f} s CPU "
        f"({cpu / (args.systems * args.seeds):.2f} s CPU per system and seed)"
    )


if __name__ == "__main__":
    main()
