"""BNG-macro's interval at the embedded corpus's size: coverage of the bias bracket and of the rule
before it, for one system and for paired differences.

    python benchmarks/coverage_bng_scale.py [--sims 100] [--resamples 200]

The single-feature simulation of coverage_intervals.py leaves out what Table 2 averages over:
59 features and the embedded corpus's buckets (11-211 test prompts; `bench_pooled_bootstrap`'s
synthetic arrays, 634 en and 74 zh prompts). Here every feature of a human answer is
Gamma(2) and of a generated answer Gamma(k), rounded to 0.1, independently: a system at the
human distribution (k = 2, true BNG 0), one near it (k = 2.2) and one away from it (k = 3);
three seeds without seed spread. Rounding keeps the samples stochastically ordered, so the true
BNG of every feature and bucket, and hence of the macro average, is
(E[X_k] - E[X_2]) / sd(X_2) of the rounded variables. Each simulation draws new answers and new
prompt draws and runs the pooled bootstrap (`evaluation.pooled.pooled_replicates`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).parent))
from bench_pooled_bootstrap import synthetic_arrays  # noqa: E402

from polyalign.evaluation.pooled import interval_summary, paired_difference, pooled_replicates  # noqa: E402
from polyalign.evaluation.replicates import weighted_replicates  # noqa: E402

SHAPES = {"at human": 2.0, "near": 2.2, "away": 3.0}
PAIRS = (("at human", "away"), ("near", "away"), ("at human", "near"))
SEEDS = (0, 1, 2)
METRIC = "bng_macro"


def rounded_moments(k: float, step: float = 0.1) -> tuple[float, float]:
    """Mean and sd of Gamma(k) rounded to `step`."""
    grid = np.arange(0, 80, step)
    p = np.diff(stats.gamma.cdf(np.concatenate([[0.0], grid + step / 2]), k))
    mean = float((grid * p).sum())
    return mean, float(np.sqrt((grid**2 * p).sum() - mean**2))


def true_bng() -> dict[str, float]:
    h_mean, h_sd = rounded_moments(SHAPES["at human"])
    return {s: (rounded_moments(k)[0] - h_mean) / h_sd for s, k in SHAPES.items()}


def one_simulation(rng: np.random.Generator, resamples: int) -> dict:
    """{scope: {name: {rule: (covers the truth?, width, excludes 0?)}}} for the bracket and the
    rule before it, plus {scope: {system: (plug-in, bias bound)}} under "plug-in"."""
    template = synthetic_arrays(rng)
    human = np.round(rng.gamma(SHAPES["at human"], size=template.human_X.shape), 1)
    arrays, points = {}, {}
    for system, k in SHAPES.items():
        arrays[system], points[system] = {}, {}
        for seed in SEEDS:
            a = synthetic_arrays(rng)
            a.human_X, a.gen_X = human, np.round(rng.gamma(k, size=human.shape), 1)
            arrays[system][seed] = a
            full = weighted_replicates(a, np.ones((1, len(a.ids))))
            for scope, metrics in full.items():
                points[system].setdefault(scope, {}).setdefault(METRIC, []).append(metrics[METRIC][0])
    reps = pooled_replicates(arrays, resamples, int(rng.integers(1 << 31)))
    truth = true_bng()
    out = {}
    for scope in ("en", "zh"):
        n = reps["n_prompts"][scope]
        out[scope] = {}
        for system in SHAPES:
            p, r = points[system][scope][METRIC], reps["per_seed"][system][scope][METRIC]
            bound = reps["bias_bound"][system][scope][METRIC]
            rules = {
                "bracket": interval_summary(p, r, 0.05, n, (0.0, np.inf), (0.0, bound.mean())),
                "before": interval_summary(p, r, 0.05, n, (0.0, np.inf)),
            }
            out[scope][system] = {k: _judge(ci, truth[system]) for k, ci in rules.items()}
            out.setdefault("plug-in", {}).setdefault(scope, {})[system] = (float(np.mean(p)), bound.mean())
        for a, b in PAIRS:
            diff = np.asarray(points[a][scope][METRIC]) - np.asarray(points[b][scope][METRIC])
            diff_reps = reps["per_seed"][a][scope][METRIC] - reps["per_seed"][b][scope][METRIC]
            rules = {
                "bracket": paired_difference(reps, points, a, b, scope, METRIC, 0.05),
                "before": interval_summary(diff, diff_reps, 0.05, n),
            }
            out[scope][f"{a} - {b}"] = {k: _judge(ci, truth[a] - truth[b]) for k, ci in rules.items()}
    return out


def _judge(ci: dict, truth: float) -> tuple[bool, float, bool]:
    return ci["low"] <= truth <= ci["high"], ci["high"] - ci["low"], not ci["low"] <= 0.0 <= ci["high"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=100)
    parser.add_argument("--resamples", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    t0 = time.process_time()
    runs = [one_simulation(rng, args.resamples) for _ in range(args.sims)]
    truth = true_bng()
    print(f"true BNG-macro: {', '.join(f'{s} {v:.3f}' for s, v in truth.items())}")
    for scope in ("en", "zh"):
        means = {s: np.mean([r["plug-in"][scope][s] for r in runs], axis=0) for s in SHAPES}
        print(
            f"{scope}: mean plug-in / bias bound: "
            + ", ".join(f"{s} {m[0]:.3f} / {m[1]:.3f}" for s, m in means.items())
        )
    print()
    print(
        "| scope | statistic | coverage: bracket / before | median width: bracket / before | "
        "excludes 0: bracket / before |"
    )
    print("|---|---|---|---|---|")
    for scope in ("en", "zh"):
        for name in runs[0][scope]:
            cover, width, decided = (
                {k: agg([r[scope][name][k][i] for r in runs]) for k in ("bracket", "before")}
                for i, agg in enumerate((np.mean, np.median, np.mean))
            )
            label = name if " - " in name else f"{name} alone"
            print(
                f"| {scope} | {label} | {cover['bracket']:.2f} / {cover['before']:.2f} | "
                f"{width['bracket']:.3f} / {width['before']:.3f} (x{width['bracket'] / width['before']:.1f}) | "
                f"{decided['bracket']:.2f} / {decided['before']:.2f} |"
            )
    print(f"\nCPU time: {time.process_time() - t0:.0f} s")


if __name__ == "__main__":
    main()
