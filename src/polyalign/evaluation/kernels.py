"""Vectorised metric kernels for bootstrap replicates given as prompt-count matrices.

A replicate draws the test prompts with replacement; it is written as a count vector w over the
prompts (w_i = how often prompt i was drawn) and R replicates as a matrix W [R, n]. Every metric
of a replicate is then a function of W that numpy evaluates for all R at once:

- means (EM, QA-F1, ROUGE-L, language fidelity, per-bucket QA-F1, HCR): count-weighted means;
- BNG / BNG-robust: W1 of two weighted empirical distributions is the integral of |F - G|; on
  the sorted distinct values of a bucket's feature both CDFs are step functions, so the integral
  is an exact finite sum of |F_k - G_k| times the gap to the next value. The human empirical CDF
  of BNG-robust is itself such a step function of the same sorted values;
- MAUVE: a replicate keeps the quantization (k-means cluster of every response) of the full
  data and recounts the cluster histograms; MAUVE is a function of the two histograms
  (`mauve_from_counts` follows mauve-text 0.4.0 step by step);
- TDM: the TF-IDF/SVD fit and the per-row statistics of the full data are kept; a replicate
  recomputes the W1 gaps of the row statistics and the transition gap from Gram matrices;
- NUF and Aggregate: the paper's formulas applied to the per-bucket and scope replicates.

With W = all ones every kernel reproduces the definitions in `polyalign.metrics`
(tests/evaluation/test_kernels.py checks this to 1e-9, and resampled values against the
definitions applied to the repeated rows).
"""

from __future__ import annotations

import numpy as np

from polyalign.metrics.distributional import STD_FLOOR

from .w1_bias import bias_excess


def weighted_mean(W: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per replicate: sum_i w_i v_i / sum_i w_i (NaN where a replicate has no weight)."""
    total = W.sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (W @ np.asarray(values, dtype=float)) / total


def group_means(W: np.ndarray, values: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple:
    """(means [R, G], weights [R, G]) of `values` per group code (rows with NaN values or code
    -1 are left out)."""
    values = np.asarray(values, dtype=float)
    use = (groups >= 0) & np.isfinite(values)
    onehot = np.zeros((values.size, n_groups))
    onehot[np.flatnonzero(use), groups[use]] = 1.0
    weights = W @ onehot
    sums = W @ (onehot * np.where(use, values, 0.0)[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / weights, weights


def _cumulative_at(W: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """C[r, k] = sum of w_i over rows with values[i] <= grid[k] (one column, W [R, m])."""
    order = np.argsort(values, kind="stable")
    cum = np.concatenate([np.zeros((W.shape[0], 1)), np.cumsum(W[:, order], axis=1)], axis=1)
    return cum[:, np.searchsorted(values[order], grid, side="right")]


def bucket_gap_replicates(
    human: np.ndarray,
    generated: np.ndarray,
    W_human: np.ndarray,
    W_generated: np.ndarray,
    bias_bounds: bool = False,
) -> tuple:
    """(BNG, BNG-robust) of one bucket for every replicate: mean over features of the gaps.

    human [m_h, F], generated [m_g, F]: valid rows, in-scope columns only; W_human [R, m_h],
    W_generated [R, m_g]: the rows' counts. NaN where a replicate has no row on one side.
    With bias_bounds, also the upper bounds of the full-data values' bias (two floats,
    `w1_bias.bias_excess` summed like the gaps; W must then be prompt draws, not one row of ones).
    """
    W_human, W_generated = np.asarray(W_human, float), np.asarray(W_generated, float)
    n_h, n_g = W_human.sum(axis=1), W_generated.sum(axis=1)
    empty = (n_h == 0) | (n_g == 0)
    n_h_safe, n_g_safe = np.where(n_h > 0, n_h, 1.0), np.where(n_g > 0, n_g, 1.0)
    # moments about the full-data mean: a constant column stays exactly 0
    centred = human - human.mean(axis=0)
    s1, s2 = W_human @ centred, W_human @ centred**2
    paper = np.zeros(W_human.shape[0])
    robust = np.zeros(W_human.shape[0])
    bound_paper = bound_robust = 0.0
    ones_h, ones_g = np.ones((1, human.shape[0])), np.ones((1, generated.shape[0]))
    n_prompts = max(human.shape[0], generated.shape[0])
    for j in range(human.shape[1]):
        grid = np.unique(np.concatenate([human[:, j], generated[:, j]]))
        F_h = _cumulative_at(W_human, human[:, j], grid) / n_h_safe[:, None]
        F_g = _cumulative_at(W_generated, generated[:, j], grid) / n_g_safe[:, None]
        gap = np.abs(F_g - F_h)
        dx = np.diff(grid, append=grid[-1])
        w1 = (gap * dx).sum(axis=1)
        mean = s1[:, j] / n_h_safe
        std = np.sqrt(np.maximum(s2[:, j] / n_h_safe - mean**2, 0.0))
        # a resample that drew a single human value has std 0 (np.std), not rounding noise
        std[np.diff(F_h, axis=1, prepend=0.0).max(axis=1) >= 1.0] = 0.0
        paper += w1 / np.where(std > STD_FLOOR, std, 1.0)
        # BNG-robust: both samples through F_h; F_h is non-decreasing on the grid, so the
        # transformed samples have CDFs F_g, F_h at the points F_h[k]
        robust += (gap * np.diff(F_h, axis=1, append=F_h[:, -1:])).sum(axis=1)
        if bias_bounds and (~empty).sum() > 1:
            F_h0 = _cumulative_at(ones_h, human[:, j], grid)[0] / human.shape[0]
            F_g0 = _cumulative_at(ones_g, generated[:, j], grid)[0] / generated.shape[0]
            excess = bias_excess(F_g0 - F_h0, (F_g - F_h)[~empty], n_prompts)
            std0 = np.sqrt(np.mean(centred[:, j] ** 2))
            bound_paper += (excess * dx).sum() / (std0 if std0 > STD_FLOOR else 1.0)
            bound_robust += (excess * np.diff(F_h0, append=F_h0[-1])).sum()
    paper, robust = paper / human.shape[1], robust / human.shape[1]
    paper[empty] = np.nan
    robust[empty] = np.nan
    if bias_bounds:
        if (~empty).sum() < 2:  # no spread to bound the bias with
            return paper, robust, np.nan, np.nan
        return paper, robust, bound_paper / human.shape[1], bound_robust / human.shape[1]
    return paper, robust


def macro_weighted(per_bucket: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Macro (mean over buckets with a finite value) and weighted means of [R, B] values."""
    ok = np.isfinite(per_bucket)
    count = ok.sum(axis=1)
    v = np.where(ok, per_bucket, 0.0)
    w = np.where(ok, weights, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        macro = np.where(count > 0, v.sum(axis=1) / count, np.nan)
        weighted = np.where(count > 0, (v * w).sum(axis=1) / w.sum(axis=1), np.nan)
    return macro, weighted


def mauve_from_counts(
    p_counts: np.ndarray, q_counts: np.ndarray, scaling_factor: float = 5.0, discretization: int = 25
) -> np.ndarray:
    """MAUVE(P, Q) of cluster histograms p_counts, q_counts [R, K] (mauve-text 0.4.0).

    Mixtures r = l p + (1 - l) q for l in linspace(1e-6, 1 - 1e-6, discretization); the
    divergence curve (exp(-c KL(q||r)), exp(-c KL(p||r))) with the end points (1, 0), (0, 1);
    MAUVE = mean of the trapezoid areas under the curve read along x and along y.
    """
    p_counts, q_counts = np.atleast_2d(p_counts).astype(float), np.atleast_2d(q_counts).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = p_counts / p_counts.sum(axis=1, keepdims=True)
        q = q_counts / q_counts.sum(axis=1, keepdims=True)
        lam = np.sort(np.linspace(1e-6, 1 - 1e-6, discretization))[None, :, None]
        r = lam * p[:, None, :] + (1 - lam) * q[:, None, :]  # [R, D, K]

        def kl(a):
            a = np.broadcast_to(a[:, None, :], r.shape)
            return np.where((a != 0) & (r != 0), a * np.log(a / r), 0.0).sum(axis=2)

        x = np.exp(-scaling_factor * kl(q))
        y = np.exp(-scaling_factor * kl(p))
    n = x.shape[0]
    x = np.concatenate([np.ones((n, 1)), x, np.zeros((n, 1))], axis=1)
    y = np.concatenate([np.zeros((n, 1)), y, np.ones((n, 1))], axis=1)

    def area(a, b):
        order = np.argsort(a, axis=1)
        a, b = np.take_along_axis(a, order, 1), np.take_along_axis(b, order, 1)
        return (np.diff(a, axis=1) * (b[:, 1:] + b[:, :-1]) / 2.0).sum(axis=1)

    out = 0.5 * (area(x, y) + area(y, x))
    out[~(np.isfinite(p).all(axis=1) & np.isfinite(q).all(axis=1))] = np.nan
    return out


def label_counts(W: np.ndarray, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """Cluster histograms [R, K] of the rows with a label (label -1: not quantized)."""
    keep = np.flatnonzero(labels >= 0)
    onehot = np.zeros((keep.size, n_clusters))
    onehot[np.arange(keep.size), labels[keep]] = 1.0
    return W[:, keep] @ onehot


def scaled_w1_replicates(generated: np.ndarray, human: np.ndarray, W: np.ndarray) -> np.ndarray:
    """W1(g, h) / std(h) per replicate for paired 1-D samples (same row counts on both sides)."""
    gap, _ = bucket_gap_replicates(human[:, None], generated[:, None], W, W)
    return gap


def _weighted_norm2(
    W: np.ndarray, N: np.ndarray, Wq: np.ndarray, gram_q: np.ndarray, gram_x: np.ndarray
) -> np.ndarray:
    """||T_X||_F^2 per replicate, T_X = sum_i w_i (q_i - qbar)(x_i - xbar)^T / N (means
    weighted by w), from the Gram matrices Q Q^T, X X^T of the rows; Wq = W @ Q Q^T.

    T_X = M/N - qbar xbar^T with M = sum_i w_i q_i x_i^T, so ||T_X||^2 = <M, M>/N^2
    - 2 qbar' M xbar / N + |qbar|^2 |xbar|^2, and every term is a quadratic form in w."""
    Wx = W @ gram_x
    mm = ((W @ (gram_q * gram_x)) * W).sum(axis=1) / N**2
    qmx = (W * Wq * Wx).sum(axis=1) / N**3
    qq = (W * Wq).sum(axis=1) / N**2
    xx = (W * Wx).sum(axis=1) / N**2
    return mm - 2 * qmx + qq * xx


def transition_gap_replicates(z_q: np.ndarray, z_h: np.ndarray, z_g: np.ndarray, W: np.ndarray) -> np.ndarray:
    """||T_G - T_H||_F / ||T_H||_F per replicate (T = Q_c^T R_c / n on weighted-centred
    latents). T_G - T_H is the transition matrix of the differences g_i - h_i."""
    W = np.asarray(W, dtype=float)
    N = W.sum(axis=1)
    N = np.where(N > 0, N, 1.0)
    gram_q = z_q @ z_q.T
    Wq = W @ gram_q
    d = z_g - z_h
    diff = np.sqrt(np.maximum(_weighted_norm2(W, N, Wq, gram_q, d @ d.T), 0.0))
    norm_h = np.sqrt(np.maximum(_weighted_norm2(W, N, Wq, gram_q, z_h @ z_h.T), 0.0))
    return diff / np.where(norm_h > STD_FLOOR, norm_h, 1.0)


def frontier_replicates(u: np.ndarray, naturalness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hypervolume, number of points) per replicate of per-bucket points [R, B] (NaN = left
    out). HV is the area of the union of the rectangles [0, u_b] x [0, n_b], which is what the
    frontier sum of `polyalign.metrics.frontier.hypervolume` adds up."""
    ok = np.isfinite(u) & np.isfinite(naturalness)
    u0, n0 = np.where(ok, u, 0.0), np.where(ok, naturalness, 0.0)
    order = np.argsort(-u0, axis=1, kind="stable")
    us, ns = np.take_along_axis(u0, order, 1), np.take_along_axis(n0, order, 1)
    best = np.maximum.accumulate(ns, axis=1)
    width = us - np.concatenate([us[:, 1:], np.zeros((us.shape[0], 1))], axis=1)
    hv = (width * best).sum(axis=1)
    count = ok.sum(axis=1)
    return np.where(count > 0, hv, np.nan), count


def naturalness(parts: list[np.ndarray]) -> np.ndarray:
    """Geometric mean of the clipped parts (0 if any part is 0); NaN where a part is NaN."""
    stack = np.stack(parts)
    with np.errstate(divide="ignore"):
        logs = np.log(stack)
    out = np.exp(logs.mean(axis=0))
    out[(stack == 0).any(axis=0) & np.isfinite(stack).all(axis=0)] = 0.0
    return out


def bng_naturalness(bng: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.maximum(bng, 0.0))


def aggregate_replicates(qa_f1, bng_macro, g_mauve, nuf) -> np.ndarray:
    """Aggregate per replicate: geometric mean of the finite clipped components, NaN with fewer
    than 2, 0 if any is 0 (`polyalign.metrics.frontier.aggregate_score`)."""
    comps = np.stack(
        [np.clip(qa_f1, 0, 1), bng_naturalness(bng_macro), np.clip(g_mauve, 0, 1), np.clip(nuf, 0, 1)]
    )
    ok = np.isfinite(comps)
    count = ok.sum(axis=0)
    with np.errstate(divide="ignore"):
        logs = np.where(ok, np.log(np.where(ok, comps, 1.0)), 0.0)
    out = np.exp(logs.sum(axis=0) / np.maximum(count, 1))
    out[(ok & (comps == 0)).any(axis=0)] = 0.0
    out[count < 2] = np.nan
    return out
