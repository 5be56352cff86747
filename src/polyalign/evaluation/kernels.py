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


def _cumulative_per_value(W: np.ndarray, ranks: np.ndarray, n_values: int) -> np.ndarray:
    """C[r, f, k] = sum of w_i over rows i with ranks[i, f] <= k."""
    m, n_features = ranks.shape
    onehot = np.zeros((m, n_features * n_values))
    onehot[np.repeat(np.arange(m), n_features),
           (ranks + np.arange(n_features) * n_values).ravel()] = 1.0
    per_value = (W @ onehot).reshape(W.shape[0], n_features, n_values)
    return np.cumsum(per_value, axis=2)


def bucket_gap_replicates(human: np.ndarray, generated: np.ndarray, W_human: np.ndarray,
                          W_generated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(BNG, BNG-robust) of one bucket for every replicate: mean over features of the gaps.

    human [m_h, F], generated [m_g, F]: valid rows, in-scope columns only; W_human [R, m_h],
    W_generated [R, m_g]: the rows' counts. NaN where a replicate has no row on one side.
    """
    n_features = human.shape[1]
    values = [np.unique(np.concatenate([human[:, j], generated[:, j]])) for j in range(n_features)]
    n_values = max(v.size for v in values)
    grid = np.stack([np.pad(v, (0, n_values - v.size), mode="edge") for v in values])  # [F, K]
    rank_h = np.stack([np.searchsorted(values[j], human[:, j]) for j in range(n_features)], 1)
    rank_g = np.stack([np.searchsorted(values[j], generated[:, j]) for j in range(n_features)], 1)
    n_h, n_g = W_human.sum(axis=1).astype(float), W_generated.sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        F_h = _cumulative_per_value(W_human, rank_h, n_values) / n_h[:, None, None]
        F_g = _cumulative_per_value(W_generated, rank_g, n_values) / n_g[:, None, None]
        step = np.diff(grid, axis=1, append=grid[:, -1:])                    # [F, K]
        w1 = (np.abs(F_g - F_h) * step).sum(axis=2)                          # [R, F]
        mean = (W_human @ human) / n_h[:, None]
        var = np.einsum("rm,rmf->rf", W_human, (human[None] - mean[:, None, :]) ** 2) / n_h[:, None]
        std = np.sqrt(var)
        paper = (w1 / np.where(std > STD_FLOOR, std, 1.0)).mean(axis=1)
        # BNG-robust: both samples through F_h; F_h is non-decreasing on the grid, so the
        # transformed samples have CDFs F_g, F_h at the points F_h[k]
        robust = (np.abs(F_g - F_h) * np.diff(F_h, axis=2, append=F_h[:, :, -1:])).sum(axis=2)
    empty = (n_h == 0) | (n_g == 0)
    paper[empty] = np.nan
    robust = robust.mean(axis=1)
    robust[empty] = np.nan
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


def mauve_from_counts(p_counts: np.ndarray, q_counts: np.ndarray, scaling_factor: float = 5.0,
                      discretization: int = 25) -> np.ndarray:
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
        r = lam * p[:, None, :] + (1 - lam) * q[:, None, :]                  # [R, D, K]

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
    onehot = np.zeros((labels.size, n_clusters))
    keep = np.flatnonzero(labels >= 0)
    onehot[keep, labels[keep]] = 1.0
    return W @ onehot


def scaled_w1_replicates(generated: np.ndarray, human: np.ndarray, W: np.ndarray) -> np.ndarray:
    """W1(g, h) / std(h) per replicate for paired 1-D samples (same row counts on both sides)."""
    gap, _ = bucket_gap_replicates(human[:, None], generated[:, None], W, W)
    return gap


def _weighted_frobenius(W, gram_q, gram_x, gram_y, gram_xy):
    """<T_X, T_Y>_F per replicate with T_X = sum_i w_i (q_i - qbar)(x_i - xbar)^T / N, from the
    Gram matrices Q Q^T, X X^T, Y Y^T, X Y^T of the rows (means weighted by w)."""
    N = W.sum(axis=1).astype(float)
    Wq = W @ gram_q                                    # [R, m]: sum_j w_j q_i . q_j
    cross = np.einsum("ri,ij,rj->r", W, gram_q * gram_xy, W) / N ** 2
    q_x_y = np.einsum("ri,ri,ri->r", W, Wq, W @ gram_xy.T) / N ** 3   # qbar' M_X ybar / N
    q_y_x = np.einsum("ri,ri,ri->r", W, Wq, W @ gram_xy) / N ** 3     # qbar' M_Y xbar / N
    qq = np.einsum("ri,ri->r", W, Wq) / N ** 2
    xy = np.einsum("ri,ij,rj->r", W, gram_xy, W) / N ** 2
    return cross - q_x_y - q_y_x + qq * xy


def transition_gap_replicates(z_q: np.ndarray, z_h: np.ndarray, z_g: np.ndarray,
                              W: np.ndarray) -> np.ndarray:
    """||T_G - T_H||_F / ||T_H||_F per replicate (T = Q_c^T R_c / n on weighted-centred latents)."""
    gq, gh, gg = z_q @ z_q.T, z_h @ z_h.T, z_g @ z_g.T
    hh = _weighted_frobenius(W, gq, gh, gh, gh)
    ggv = _weighted_frobenius(W, gq, gg, gg, gg)
    gh_cross = _weighted_frobenius(W, gq, gg, gh, z_g @ z_h.T)
    diff = np.sqrt(np.maximum(ggv + hh - 2 * gh_cross, 0.0))
    norm_h = np.sqrt(np.maximum(hh, 0.0))
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
    comps = np.stack([np.clip(qa_f1, 0, 1), bng_naturalness(bng_macro), np.clip(g_mauve, 0, 1),
                      np.clip(nuf, 0, 1)])
    ok = np.isfinite(comps)
    count = ok.sum(axis=0)
    with np.errstate(divide="ignore"):
        logs = np.where(ok, np.log(np.where(ok, comps, 1.0)), 0.0)
    out = np.exp(logs.sum(axis=0) / np.maximum(count, 1))
    out[(ok & (comps == 0)).any(axis=0)] = 0.0
    out[count < 2] = np.nan
    return out
