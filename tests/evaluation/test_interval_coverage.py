"""Coverage of the pooled interval by simulation (benchmarks/coverage_intervals.py).

Mean-type statistic (QA-F1, language fidelity, detector rates; also the paired difference of
two systems): a crossed seeds x prompts table, 40 prompts, seed shares of the variance of the
pooled mean 0, 0.3, 0.5, 0.7, 0.9, 0.95, with S = 3 and S = 5 seeds. 4000 simulations per
regime (fixed seeds, deterministic): the Monte Carlo standard error of a coverage near 0.95 is
sqrt(0.95 * 0.05 / 4000) = 0.0034, so a true 0.95 lies 6 standard errors inside the 93-97%
band and a true 0.92 (the replaced rule's best at share 0.9) 3 outside it.
The replaced rule (seeds resampled with replacement) fails: 0.88 at share 0.7 and 0.80 at 0.9
with S = 3 (benchmarks/coverage_intervals.py --old).

BNG-type statistic (W1 / std of one feature in one bucket of 60 prompts): the paired difference
A - B and A's own interval, both systems away from the human distribution at six seed sds, A
following the human distribution (BNG 0) against B at three, A near it (mu 0.1), with S = 3 and
S = 5. 400 simulations per regime: the Monte Carlo standard error at 0.90 is
sqrt(0.9 * 0.1 / 400) = 0.015, so a true 0.85 measures >= 0.90 with probability below 0.001 and
a true 0.95 (se 0.011) below 0.90 with probability below 1e-5. The rule before the bias bracket
(the resampling bias correction) fails here: one system 0.47-0.91 and the difference with A =
human 0.86-0.92 (docs/evaluation.md).

MAUVE-type statistic (cluster-histogram MAUVE of 60 prompts in 6 clusters; docs/evaluation.md):
the paired difference A - B, which every claim and ablation comparison uses, at six seed sds
(seed shares 0-0.74) and with A following the human distribution (MAUVE 1) at three, S = 3 and
S = 5, 400 simulations each: >= 0.90 (measured 0.936-0.978 with 1000 simulations). A's own
interval (Table 2's cells) is held to >= 0.85: it measured 0.896 at S = 3, seed sd 1 with 1000
simulations, a little under 0.90, and docs/evaluation.md says so. The replaced seed-bootstrap
rule over-covers MAUVE (0.95-1.00), so unlike the other two types there is no failing old
interval to check against here.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from polyalign.evaluation.pooled import seed_prompt_bounds

_spec = importlib.util.spec_from_file_location(
    "coverage_intervals", Path(__file__).resolve().parents[2] / "benchmarks" / "coverage_intervals.py"
)
coverage_intervals = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(coverage_intervals)


@pytest.mark.parametrize("S", [3, 5])
@pytest.mark.parametrize(
    "regime",
    coverage_intervals.BNG_REGIMES,
    ids=lambda r: ("A_near_human" if r[2] else "A_human" if r[0] else "away") + f"-tau{r[1]:g}",
)
def test_bng_type_coverage_of_one_system_and_of_the_difference(S, regime):
    hard, tau, a_mu = regime
    out = coverage_intervals.bng_coverage(
        S,
        tau,
        hard=hard,
        a_mu=a_mu,
        sims=400,
        seed=1000 + 100 * S + coverage_intervals.BNG_REGIMES.index(regime),
    )
    assert out["coverage"] >= 0.90 and out["single"] >= 0.90, out


MAUVE_REGIMES = [(False, t) for t in coverage_intervals.MAUVE_TAUS] + [
    (True, t) for t in coverage_intervals.MAUVE_TAUS[0:5:2]
]


@pytest.mark.slow  # ~9 s each: full lane only
@pytest.mark.parametrize("S", [3, 5])
@pytest.mark.parametrize(
    "regime", MAUVE_REGIMES, ids=lambda r: ("A_human" if r[0] else "away") + f"-tau{r[1]:g}"
)
def test_mauve_type_coverage_of_the_difference_and_of_one_system(S, regime):
    hard, tau = regime
    out = coverage_intervals.mauve_coverage(
        S, tau, hard=hard, sims=400, seed=2000 + 100 * S + MAUVE_REGIMES.index(regime)
    )
    assert out["coverage"] >= 0.90 and out["single"] >= 0.85, out


@pytest.mark.parametrize("S", [3, 5])
@pytest.mark.parametrize("share", coverage_intervals.SHARES)
def test_mean_type_coverage_at_every_seed_share(S, share):
    out = coverage_intervals.mean_coverage(S, share, sims=4000, R=500, seed=100 * S + int(100 * share))
    assert 0.93 <= out["coverage"] <= 0.97, out


def test_identical_systems_differ_by_exactly_zero():
    rng = np.random.default_rng(0)
    reps = rng.normal(size=(3, 200))
    points = rng.normal(size=3)
    b = seed_prompt_bounds(points - points, reps - reps, 0.05, 40)
    assert float(b["low"]) == 0.0 and float(b["high"]) == 0.0 and float(b["point"]) == 0.0


def test_seed_component_dominates_with_few_prompts_of_noise():
    """All variance between seeds (no prompt effect): the interval is the seed-level t interval,
    mean +- t_{0.975, S-1} sd / sqrt(S), since the prompt bootstrap adds nothing."""
    points = np.array([0.1, 0.3, 0.5])
    reps = np.repeat(points[:, None], 50, axis=1)  # every prompt draw gives the same values
    b = seed_prompt_bounds(points, reps, 0.05, 40)
    half = 4.302652729911275 * 0.2 / np.sqrt(3)
    assert float(b["df"]) == pytest.approx(2.0)
    assert float(b["low"]) == pytest.approx(0.3 - half) and float(b["high"]) == pytest.approx(0.3 + half)
