"""Bias-corrected centre vs plug-in centre of the pooled interval for distance-type statistics.

    python benchmarks/coverage_bias_centre.py [--sims 400]     # simulations per regime, S = 3

The interval of `evaluation.pooled.seed_prompt_bounds` is centred on the point less the prompt
bootstrap's bias estimate; the alternative keeps the same half-width around the plug-in point.
Prints, per BNG-/MAUVE-type regime of benchmarks/coverage_intervals.py, the coverage of the
paired difference and of one system's own interval under both centres (docs/evaluation.md). For
BNG this is the comparison that showed neither centre is right at both ends; BNG's intervals now
bracket the bias instead (`evaluation.w1_bias`, measured by coverage_intervals.py).
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from coverage_intervals import bng_coverage, mauve_coverage  # noqa: E402

from polyalign.evaluation.pooled import seed_prompt_bounds  # noqa: E402

REGIMES = (
    ("BNG", bng_coverage, ((False, 0.0), (False, 0.1), (False, 0.3), (True, 0.0), (True, 0.2))),
    ("MAUVE", mauve_coverage, ((False, 0.0), (False, 1.0), (True, 0.0), (True, 2.0))),
)


def plug_in_centre(points, replicates, alpha, n_prompts):
    """The pooled interval's half-width around the plug-in point (no bias correction)."""
    b = seed_prompt_bounds(points, replicates, alpha, n_prompts)
    return {**b, "low": b["point"] - b["half"], "high": b["point"] + b["half"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sims", type=int, default=400)
    args = ap.parse_args()
    t0 = time.process_time()
    print("| statistic | regime | difference: corrected / plug-in | one system: corrected / plug-in |")
    print("|---|---|---|---|")
    for name, fn, regimes in REGIMES:
        for hard, tau in regimes:
            a = fn(3, tau, hard=hard, sims=args.sims, rule=seed_prompt_bounds)
            b = fn(3, tau, hard=hard, sims=args.sims, rule=plug_in_centre)
            key = "ref_" if name == "BNG" else ""  # bng_coverage's own rule is the bracket
            label = f"A = human, B tau {tau:g}" if hard else f"tau {tau:g}"
            print(
                f"| {name} | {label} | {a[key + 'coverage']:.3f} / {b[key + 'coverage']:.3f} | "
                f"{a[key + 'single']:.3f} / {b[key + 'single']:.3f} |",
                flush=True,
            )
    print(f"\nCPU time: {time.process_time() - t0:.0f} s")


if __name__ == "__main__":
    main()
