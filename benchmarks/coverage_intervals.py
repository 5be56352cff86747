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
from polyalign.evaluation.w1_bias import bias_excess, bracket_bias, difference_bias, single_bias

ALPHA = 0.05
SHARES = (0.0, 0.3, 0.5, 0.7, 0.9, 0.95)
# seed sd of the distributional systems, chosen so that the measured shares span 0 to > 0.9
BNG_TAUS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
# (hard, tau, a_mu): both systems away from the human distribution at every seed sd; system A
# following the human distribution (BNG 0) against B at three seed sds; A near it (mu 0.1)
BNG_REGIMES = (
    tuple((False, t, 0.0) for t in BNG_TAUS)
    + tuple((True, t, 0.0) for t in BNG_TAUS[0:5:2])
    + ((True, 0.0, 0.1),)
)
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


def _w1_over_sd(h: np.ndarray, g: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """W1(g, h) / std(h) for batches h, g [B, n] of paired rows (prompt i's human and generated
    answer share the count W[r, i]), W [R, n] summing to 1 per row: (full-data values [B],
    replicates [B, R], the bias bound of the full-data value [B], `w1_bias.bias_excess` summed
    over the grid as BNG's kernel sums it)."""
    n = h.shape[-1]
    values = np.concatenate([h, g], axis=-1)
    order = np.argsort(values, axis=-1)
    gaps = np.diff(np.take_along_axis(values, order, axis=-1), axis=-1)  # [B, 2n - 1]

    def cdf_gaps(counts):  # F_h - F_g on the grid [B, R, 2n - 1] and std(h) [B, R]
        signed = np.concatenate([counts, -counts], axis=-1)
        cum = np.cumsum(np.moveaxis(signed[:, order], 0, 1), axis=-1)[..., :-1]
        m1, m2 = h @ counts.T, (h**2) @ counts.T
        return cum, np.sqrt(np.maximum(m2 - m1**2, 1e-12))

    cum, sd = cdf_gaps(W)
    cum0, sd0 = cdf_gaps(np.full((1, n), 1 / n))
    cum0, sd0 = cum0[:, 0], sd0[:, 0]
    reps = np.einsum("brk,bk->br", np.abs(cum), gaps) / sd
    full = np.einsum("bk,bk->b", np.abs(cum0), gaps) / sd0
    bound = np.einsum("bk,bk->b", bias_excess(cum0, cum, n), gaps) / sd0
    return full, reps, bound


def _folded_mean(mu: float, tau: float) -> float:
    """E|mu + a|, a ~ N(0, tau^2): the population BNG of a system averaged over seeds."""
    if tau == 0:
        return abs(mu)
    return tau * math.sqrt(2 / math.pi) * math.exp(-(mu**2) / (2 * tau**2)) + mu * (
        1 - 2 * stats.norm.cdf(-mu / tau)
    )


def _folded_var(mu: float, tau: float) -> float:
    return mu**2 + tau**2 - _folded_mean(mu, tau) ** 2


def _width(bounds: dict, clip=(-np.inf, np.inf)) -> np.ndarray:
    return np.clip(bounds["high"], *clip) - np.clip(bounds["low"], *clip)


def bng_coverage(
    S: int,
    tau: float,
    *,
    hard: bool,
    a_mu: float = 0.0,
    n: int = 60,
    sims: int = 1000,
    R: int = 200,
    seed: int = 0,
    rule: Rule = seed_prompt_bounds,
) -> dict:
    """BNG-type coverage of the difference A - B and of A alone. A: mu 0.3 with seed sd tau, or
    (hard) mu a_mu without seed spread (a_mu 0: A follows the human distribution); B: mu 0.8,
    seed sd tau.

    coverage, single: the rule of Table 2 and the claims for W1-type statistics (the plug-in
    with its bias bracketed, `evaluation.w1_bias`); ref_coverage, ref_single: `rule` (default
    the two-level t interval with the resampling bias correction, which BNG used before);
    width, single_width: median width of the first over median width of the second."""
    rng = np.random.default_rng(seed)
    mus, taus = ((a_mu, 0.8), (0.0, tau)) if hard else ((0.3, 0.8), (tau, tau))
    truth = [_folded_mean(m, t) for m, t in zip(mus, taus)]
    seed_part = sum(_folded_var(m, t) for m, t in zip(mus, taus)) / S
    W = draw_counts(["en"] * n, R, int(rng.integers(1 << 31))).astype(float) / n
    rho = 0.5
    points = []
    out: dict[str, list] = {k: [] for k in ("single", "diff", "ref_single", "ref_diff")}
    widths: dict[str, list] = {k: [] for k in out}
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
            full, reps, bound = _w1_over_sd(hb, g.reshape(-1, n), W)
            per_system.append((full.reshape(m, S), reps.reshape(m, S, R), bound.reshape(m, S)))
        (pa, ra, ba), (pb, rb, bb) = per_system
        rules = {
            "single": bracket_bias(seed_prompt_bounds(pa, ra, ALPHA, n), *single_bias(ba)),
            "diff": bracket_bias(seed_prompt_bounds(pa - pb, ra - rb, ALPHA, n), *difference_bias(ba, bb)),
            "ref_single": rule(pa, ra, ALPHA, n),
            "ref_diff": rule(pa - pb, ra - rb, ALPHA, n),
        }
        for key, b in rules.items():
            clip = (0.0, np.inf) if key.endswith("single") else (-np.inf, np.inf)
            out[key].append(_covers(b, truth[0] if key.endswith("single") else truth[0] - truth[1], clip))
            widths[key].append(_width(b, clip))
        points.append((pa - pb).mean(axis=-1))
    cover = {k: float(np.concatenate(v).mean()) for k, v in out.items()}
    width = {k: float(np.median(np.concatenate(v))) for k, v in widths.items()}
    return {
        "coverage": cover["diff"],
        "single": cover["single"],
        "ref_coverage": cover["ref_diff"],
        "ref_single": cover["ref_single"],
        "width": width["diff"] / width["ref_diff"],
        "single_width": width["single"] / width["ref_single"],
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


def bng_label(hard: bool, tau: float, a_mu: float = 0.0) -> str:
    if not hard:
        return f"tau {tau:g}"
    return f"A = human, B tau {tau:g}" if a_mu == 0 else f"A near human (mu {a_mu:g}), B tau {tau:g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=2000, help="simulations per mean-type regime")
    parser.add_argument("--dist-sims", type=int, default=1000, help="simulations per distributional regime")
    parser.add_argument("--old", action="store_true", help="also print the replaced seed-bootstrap rule")
    parser.add_argument("--bng-only", action="store_true", help="only the BNG table")
    args = parser.parse_args()
    rules = {"t interval": seed_prompt_bounds} | ({"old": old_rule} if args.old else {})
    t0 = time.process_time()
    if not args.bng_only:
        print(
            "| statistic | S | regime | seed share | " + " | ".join(f"coverage ({r})" for r in rules) + " |"
        )
        print("|---|---|---|---|" + "---|" * len(rules))
        for S in (3, 5):
            for share in SHARES:
                cov = [mean_coverage(S, share, sims=args.sims, rule=r)["coverage"] for r in rules.values()]
                print(
                    f"| mean, difference | {S} | crossed table | {share:.2f} | "
                    + " | ".join(f"{c:.3f}" for c in cov)
                    + " |"
                )
        for S in (3, 5):
            for hard, tau in [(False, t) for t in MAUVE_TAUS] + [(True, t) for t in MAUVE_TAUS[0:5:2]]:
                out = [mauve_coverage(S, tau, hard=hard, sims=args.dist_sims, rule=r) for r in rules.values()]
                label = f"A = human, B tau {tau:g}" if hard else f"tau {tau:g}"
                cells = " | ".join(f"{o['coverage']:.3f} (A alone {o['single']:.3f})" for o in out)
                print(f"| MAUVE, difference | {S} | {label} | {out[0]['share']:.2f} | {cells} |")
        print()
    print(
        "| S | regime | seed share | difference: bracket / before | width | "
        "one system: bracket / before | width |"
    )
    print("|---|---|---|---|---|---|---|")
    for S in (3, 5):
        for hard, tau, a_mu in BNG_REGIMES:
            o = bng_coverage(S, tau, hard=hard, a_mu=a_mu, sims=args.dist_sims)
            print(
                f"| {S} | {bng_label(hard, tau, a_mu)} | {o['share']:.2f} | "
                f"{o['coverage']:.3f} / {o['ref_coverage']:.3f} | x{o['width']:.2f} | "
                f"{o['single']:.3f} / {o['ref_single']:.3f} | x{o['single_width']:.2f} |",
                flush=True,
            )
    print(f"\nCPU time: {time.process_time() - t0:.0f} s")


if __name__ == "__main__":
    main()
