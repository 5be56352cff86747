"""Coverage of the pooled interval by simulation, at seed shares of the variance from 0 to 0.95.

    python benchmarks/coverage_intervals.py [--sims 2000] [--dist-sims 1000] [--old]

Prints one table (docs/evaluation.md pastes it): the share of simulations whose nominal 95%
interval (`evaluation.pooled.seed_prompt_bounds`, the rule of Table 2, Table 4 and the claims)
covers the true value, for

- a mean-type statistic (QA-F1, language fidelity, detector rates): the mean over seeds and
  prompts of a crossed table y[s, i] = delta + prompt_i + seed_s + noise_si, which is also
  the paired difference of two systems (a prompt effect both share cancels);
- BNG-type: W1 / std(human) of one feature in one bucket of n = 60 prompts; a system's outputs
  at seed s are N(mu + a_s, 1) with a_s ~ N(0, tau^2), the human answers N(0, 1), and a
  prompt latent correlates the human and generated answers of a prompt (0.5); true value of
  a system = E_a |mu + a| (the population W1);
- MAUVE-type: MAUVE of the cluster histograms (`kernels.mauve_from_counts`), 60 prompts in 6
  clusters, a generated answer copies the cluster of its prompt's human answer with
  probability 0.3, else draws from softmax(log p_human + mu v + a_s xi_s); true value = the
  mean over seed draws of MAUVE of the population histograms.

Distributional statistics are shown for the paired difference of two systems (the claims) and
for one system (Table 2), in the regimes "both away from the human distribution" and the hard
case "system A follows the human distribution" (BNG 0 and MAUVE 1 exactly, where the plug-in
is biased away from the truth). The seed share is measured: Var over seed draws of the true
per-seed value / S, over the variance of the pooled point estimate across simulations.
tests/evaluation/test_interval_coverage.py runs the same simulations with fewer replicates.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np
from scipy import stats

from polyalign.evaluation.kernels import mauve_from_counts
from polyalign.evaluation.pooled import draw_counts, seed_prompt_bounds

ALPHA = 0.05
SHARES = (0.0, 0.3, 0.5, 0.7, 0.9, 0.95)
# seed sd of the distributional systems, chosen so that the measured shares span 0 to > 0.9
BNG_TAUS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
MAUVE_TAUS = (0.0, 0.3, 0.6, 1.0, 2.0, 3.0)
Rule = Callable[..., dict]


def old_rule(seed_points, replicates, alpha, n_prompts, *, seed=7):
    """The interval replaced in issue 23: seeds resampled with replacement on top of the prompt
    draws, median-centred percentile interval of sum_s C[r, s] m_s(W_r) / S (for comparison)."""
    reps = np.asarray(replicates, dtype=float)
    S, R = reps.shape[-2:]
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, S, size=(R, S))
    C = np.zeros((R, S))
    np.add.at(C, (np.arange(R)[:, None], drawn), 1.0)
    pooled = np.einsum("rs,...sr->...r", C, reps) / S
    q_lo, med, q_hi = np.quantile(pooled, [alpha / 2, 0.5, 1 - alpha / 2], axis=-1)
    point = np.asarray(seed_points, dtype=float).mean(axis=-1)
    return {"low": point - (med - q_lo), "high": point + (q_hi - med)}


def _covers(bounds: dict, truth, clip=(-np.inf, np.inf)) -> np.ndarray:
    low, high = np.clip(bounds["low"], *clip), np.clip(bounds["high"], *clip)
    return (low <= truth) & (truth <= high)


def mean_coverage(
    S: int,
    share: float,
    *,
    n: int = 40,
    sims: int = 2000,
    R: int = 500,
    seed: int = 0,
    rule: Rule = seed_prompt_bounds,
) -> dict:
    """Coverage for y[s, i] = 0.05 + P_i + sd_seed A_s + E_si (P, A, E standard normal), with
    sd_seed set so that the seed part sd_seed^2 / S is `share` of Var(mean) = 1/n + sd_seed^2/S
    + 1/(nS). One prompt draw W [R, n] serves every simulation (its bootstrap variance is
    near-deterministic at R = 500)."""
    rng = np.random.default_rng(seed)
    delta = 0.05
    rest = 1 / n + 1 / (n * S)
    sd_seed = math.sqrt(S * share / (1 - share) * rest)
    W = draw_counts(["en"] * n, R, int(rng.integers(1 << 31))).astype(float) / n
    hits = []
    for start in range(0, sims, 500):
        m = min(500, sims - start)
        y = (
            delta
            + rng.normal(size=(m, 1, n))
            + sd_seed * rng.normal(size=(m, S, 1))
            + rng.normal(size=(m, S, n))
        )
        b = rule(y.mean(axis=-1), y @ W.T, ALPHA, n)
        hits.append(_covers(b, delta))
    return {"coverage": float(np.concatenate(hits).mean()), "share": share}


def _weighted_w1_over_sd(h: np.ndarray, g: np.ndarray, W: np.ndarray) -> np.ndarray:
    """W1(g, h) / std(h) per replicate for batches h, g [B, n] of paired rows (prompt i's human
    and generated answer share the count W[r, i]); W [R, n] sums to 1 per row. [B, R]."""
    values = np.concatenate([h, g], axis=-1)
    order = np.argsort(values, axis=-1)
    gaps = np.diff(np.take_along_axis(values, order, axis=-1), axis=-1)  # [B, 2n - 1]
    signed = np.concatenate([W, -W], axis=-1)  # F_h - F_g increments
    cum = np.cumsum(np.moveaxis(signed[:, order], 0, 1), axis=-1)[..., :-1]  # [B, R, 2n - 1]
    w1 = np.einsum("brk,bk->br", np.abs(cum), gaps)
    m1, m2 = h @ W.T, (h**2) @ W.T
    return w1 / np.sqrt(np.maximum(m2 - m1**2, 1e-12))


def _folded_mean(mu: float, tau: float) -> float:
    """E|mu + a|, a ~ N(0, tau^2): the population BNG of a system averaged over seeds."""
    if tau == 0:
        return abs(mu)
    return tau * math.sqrt(2 / math.pi) * math.exp(-(mu**2) / (2 * tau**2)) + mu * (
        1 - 2 * stats.norm.cdf(-mu / tau)
    )


def _folded_var(mu: float, tau: float) -> float:
    return mu**2 + tau**2 - _folded_mean(mu, tau) ** 2


def bng_coverage(
    S: int,
    tau: float,
    *,
    hard: bool,
    n: int = 60,
    sims: int = 1000,
    R: int = 200,
    seed: int = 0,
    rule: Rule = seed_prompt_bounds,
) -> dict:
    """BNG-type coverage of the difference A - B and of A alone. A: mu 0 and no seed spread
    (hard: follows the human distribution) or mu 0.3 with seed sd tau; B: mu 0.8, seed sd tau."""
    rng = np.random.default_rng(seed)
    mus, taus = ((0.0, 0.8), (0.0, tau)) if hard else ((0.3, 0.8), (tau, tau))
    truth = [_folded_mean(m, t) for m, t in zip(mus, taus)]
    seed_part = sum(_folded_var(m, t) for m, t in zip(mus, taus)) / S
    W = draw_counts(["en"] * n, R, int(rng.integers(1 << 31))).astype(float) / n
    rho = 0.5
    points, single, diff = [], [], []
    for start in range(0, sims, 100):
        m = min(100, sims - start)
        z = rng.normal(size=(m, 1, n))
        h = rho * z[:, 0] + math.sqrt(1 - rho**2) * rng.normal(size=(m, n))
        per_system = []
        for mu, t in zip(mus, taus):
            g = (
                mu
                + t * rng.normal(size=(m, S, 1))
                + rho * z
                + math.sqrt(1 - rho**2) * rng.normal(size=(m, S, n))
            )
            hb = np.broadcast_to(h[:, None, :], g.shape).reshape(-1, n)
            reps = _weighted_w1_over_sd(hb, g.reshape(-1, n), W).reshape(m, S, R)
            full = _weighted_w1_over_sd(hb, g.reshape(-1, n), np.full((1, n), 1 / n)).reshape(m, S)
            per_system.append((full, reps))
        (pa, ra), (pb, rb) = per_system
        single.append(_covers(rule(pa, ra, ALPHA, n), truth[0], (0.0, np.inf)))
        diff.append(_covers(rule(pa - pb, ra - rb, ALPHA, n), truth[0] - truth[1]))
        points.append((pa - pb).mean(axis=-1))
    return {
        "coverage": float(np.concatenate(diff).mean()),
        "single": float(np.concatenate(single).mean()),
        "share": seed_part / float(np.var(np.concatenate(points))),
    }


K_CLUSTERS = 6


def _mauve_probs(rng, mu: float, tau: float, draws: int, p_h: np.ndarray, v: np.ndarray, copy: float):
    """Population cluster probabilities of a system at `draws` seeds [draws, K]."""
    logits = np.log(p_h) + mu * v + tau * rng.normal(size=(draws, p_h.size))
    r = np.exp(logits - logits.max(axis=1, keepdims=True))
    return copy * p_h + (1 - copy) * r / r.sum(axis=1, keepdims=True)


def mauve_coverage(
    S: int,
    tau: float,
    *,
    hard: bool,
    n: int = 60,
    sims: int = 1000,
    R: int = 200,
    seed: int = 0,
    rule: Rule = seed_prompt_bounds,
) -> dict:
    """MAUVE-type coverage of the difference A - B and of A alone. A: identical to the human
    distribution (hard) or shifted by mu 0.6 along v, with seed spread tau; B: mu 1.5, tau."""
    rng = np.random.default_rng(seed)
    K, copy = K_CLUSTERS, 0.3
    p_h = np.array([0.3, 0.22, 0.18, 0.13, 0.1, 0.07])
    v = np.array([1.0, -1.0, 0.5, -0.5, 1.0, -1.0])
    specs = ((0.0, 0.0, 0.0), (1.5, tau, copy)) if hard else ((0.6, tau, copy), (1.5, tau, copy))
    truth, seed_part = [], 0.0
    for mu, t, c in specs:
        probs = _mauve_probs(rng, mu, t, 20000 if t > 0 else 1, p_h, v, c)
        vals = mauve_from_counts(probs, np.broadcast_to(p_h, probs.shape))
        truth.append(float(vals.mean()))
        seed_part += float(vals.var()) / S
    W = draw_counts(["en"] * n, R, int(rng.integers(1 << 31))).astype(float)
    eye = np.eye(K)
    points, single, diff = [], [], []
    for start in range(0, sims, 50):
        m = min(50, sims - start)
        h = rng.choice(K, p=p_h, size=(m, n))
        q = np.einsum("rn,mnk->mrk", W, eye[h])  # human histograms [m, R, K]
        q_full = eye[h].sum(axis=1)
        per_system = []
        for mu, t, c in specs:
            probs = _mauve_probs(rng, mu, t, m * S, p_h, v, 0.0).reshape(m, S, K)
            own = (rng.random(size=(m, S, n, 1)) < probs.cumsum(axis=-1)[:, :, None, :]).argmax(axis=-1)
            g = np.where(rng.random(size=(m, S, n)) < c, h[:, None, :], own)
            counts = np.einsum("rn,msnk->msrk", W, eye[g])
            qb = np.broadcast_to(q[:, None], counts.shape)
            reps = mauve_from_counts(counts.reshape(-1, K), qb.reshape(-1, K)).reshape(m, S, R)
            full = mauve_from_counts(eye[g].sum(axis=2).reshape(-1, K), np.repeat(q_full, S, axis=0)).reshape(
                m, S
            )
            per_system.append((full, reps))
        (pa, ra), (pb, rb) = per_system
        single.append(_covers(rule(pa, ra, ALPHA, n), truth[0], (0.0, 1.0)))
        diff.append(_covers(rule(pa - pb, ra - rb, ALPHA, n), truth[0] - truth[1]))
        points.append((pa - pb).mean(axis=-1))
    return {
        "coverage": float(np.concatenate(diff).mean()),
        "single": float(np.concatenate(single).mean()),
        "share": seed_part / float(np.var(np.concatenate(points))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=2000, help="simulations per mean-type regime")
    parser.add_argument("--dist-sims", type=int, default=1000, help="simulations per distributional regime")
    parser.add_argument("--old", action="store_true", help="also print the replaced seed-bootstrap rule")
    args = parser.parse_args()
    rules = {"t interval": seed_prompt_bounds} | ({"old": old_rule} if args.old else {})
    t0 = time.process_time()
    print("| statistic | S | regime | seed share | " + " | ".join(f"coverage ({r})" for r in rules) + " |")
    print("|---|---|---|---|" + "---|" * len(rules))
    for S in (3, 5):
        for share in SHARES:
            cov = [mean_coverage(S, share, sims=args.sims, rule=r)["coverage"] for r in rules.values()]
            print(
                f"| mean, difference | {S} | crossed table | {share:.2f} | "
                + " | ".join(f"{c:.3f}" for c in cov)
                + " |"
            )
    for name, fn, taus in (("BNG", bng_coverage, BNG_TAUS), ("MAUVE", mauve_coverage, MAUVE_TAUS)):
        for S in (3, 5):
            regimes = [(False, t) for t in taus] + [(True, t) for t in taus[:1] + taus[2::2]]
            for hard, tau in regimes:
                out = [fn(S, tau, hard=hard, sims=args.dist_sims, rule=r) for r in rules.values()]
                label = f"A = human, B tau {tau:g}" if hard else f"tau {tau:g}"
                cells = " | ".join(f"{o['coverage']:.3f} (A alone {o['single']:.3f})" for o in out)
                print(f"| {name}, difference | {S} | {label} | {out[0]['share']:.2f} | {cells} |")
    print(f"\nCPU time: {time.process_time() - t0:.0f} s")


if __name__ == "__main__":
    main()
