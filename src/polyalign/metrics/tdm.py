"""Turn-Dynamics Match (TDM, ↑; multi-track rows only), docs/method.md §9.

Per row (question q, response r): length ratio |r| / |q| in length tokens, lexical accommodation
cos(tfidf(q), tfidf(r)) and semantic coupling cos(z(q), z(r)) with z the projection onto the
top right singular vectors of the questions' TF-IDF matrix (an exact truncated SVD). Per bucket, four gaps between generated and human responses:
W1(g, h) / std(h) of each row statistic and the transition gap ||T_G - T_H||_F / ||T_H||_F,
T = Q_c^T R_c / n on centred latents. TDM_b = mean of 1 / (1 + gap); TDM = macro over buckets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg
from scipy.stats import wasserstein_distance
from sklearn.feature_extraction.text import TfidfVectorizer

from polyalign.config import block_defaults
from polyalign.metrics.tokenize import tfidf_analyzer
from polyalign.text import count_length_tokens

# Keyword defaults are the config schema's evaluation block (the one place they are written).
_EVALUATION = block_defaults("evaluation")

STD_FLOOR = 1e-12
ROW_STATS = ("length_ratio", "lexical_accommodation", "semantic_coupling")


# Latent rows are projections of unit-norm TF-IDF rows onto an orthonormal basis (norm <= 1).
# A row outside the basis' span comes out as rounding noise (norms of 1e-16 and below seen on
# real data), whose cosine is arbitrary and changed with the BLAS thread count: such a row counts
# as the zero vector.
LATENT_ZERO_NORM = 1e-9


def _row_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine; 0 where either vector has norm <= LATENT_ZERO_NORM."""
    num = (a * b).sum(axis=1)
    norm_a, norm_b = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    nonzero = (norm_a > LATENT_ZERO_NORM) & (norm_b > LATENT_ZERO_NORM)
    return np.divide(num, norm_a * norm_b, out=np.zeros_like(num), where=nonzero)


def _sparse_row_cosine(a, b) -> np.ndarray:
    num = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    den = np.sqrt(
        np.asarray(a.multiply(a).sum(axis=1)).ravel() * np.asarray(b.multiply(b).sum(axis=1)).ravel()
    )
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def question_basis(tf_q, n_components: int) -> np.ndarray:
    """[vocabulary, k] top-k right singular vectors of the sparse questions × terms matrix, k <=
    n_components: directions whose squared singular value is below 1e-10 of the largest are
    left out (the Gram matrix resolves eigenvalues only to ~1e-16 of the largest, so smaller
    ones are rounding noise, i.e. beyond the matrix's rank).

    Exact, from the eigenvectors of the small Gram matrix A Aᵀ (rows × rows): V = Aᵀ U / s. The
    randomized TruncatedSVD used before is an approximation whose trailing directions depended on
    the rounding of a multithreaded BLAS, so the same inputs gave TDM values differing in the
    third decimal. Only the spanned subspace matters here (cosines and the transition norm are
    invariant to an orthogonal change of basis), so the sign of each vector is irrelevant.
    """
    gram = (tf_q @ tf_q.T).toarray()
    n = gram.shape[0]
    k = min(n_components, n)
    eigenvalues, u = scipy.linalg.eigh(gram, subset_by_index=[n - k, n - 1])
    order = np.argsort(-eigenvalues, kind="stable")
    eigenvalues, u = eigenvalues[order], u[:, order]
    if not eigenvalues.size or eigenvalues[0] <= 0:
        raise ValueError("TDM: the questions' TF-IDF matrix is all zero")
    keep = eigenvalues > 1e-10 * eigenvalues[0]
    singular = np.sqrt(eigenvalues[keep])
    return np.asarray(tf_q.T @ (u[:, keep] / singular))


def transition_matrix(q_latent: np.ndarray, r_latent: np.ndarray) -> np.ndarray:
    """T = Q_c^T R_c / n with Q_c, R_c column-centred."""
    q_c = q_latent - q_latent.mean(axis=0)
    r_c = r_latent - r_latent.mean(axis=0)
    return q_c.T @ r_c / q_latent.shape[0]


def scaled_w1(generated: np.ndarray, human: np.ndarray) -> float:
    std = float(np.std(human))
    return wasserstein_distance(generated, human) / (std if std > STD_FLOOR else 1.0)


def transition_gap(t_generated: np.ndarray, t_human: np.ndarray) -> float:
    norm_h = float(np.linalg.norm(t_human))
    return float(np.linalg.norm(t_generated - t_human)) / (norm_h if norm_h > STD_FLOOR else 1.0)


def tdm(
    questions: Sequence[str],
    human: Sequence[str],
    generated: Sequence[str],
    bucket_ids: Sequence[str],
    *,
    min_bucket_size: int = _EVALUATION["min_bucket_size"],
    max_components: int = _EVALUATION["tdm_max_components"],
    return_rows: bool = False,
) -> dict:
    """TDM over aligned rows (row i: question i, its human answer, the system's answer).

    Pass multi-track rows only. Buckets with fewer than min_bucket_size rows are skipped.
    return_rows=True adds `rows`: the latents z_q, z_h, z_g and the row statistics of every row
    (what a bootstrap replicate keeps fixed; polyalign.evaluation.kernels).
    """
    n_rows = len(questions)
    if not (len(human) == len(generated) == len(bucket_ids) == n_rows):
        raise ValueError(
            f"length mismatch: {n_rows} questions, {len(human)} human, "
            f"{len(generated)} generated, {len(bucket_ids)} bucket ids"
        )
    if n_rows < 2:
        raise ValueError(f"TDM needs at least 2 rows, got {n_rows}")
    vectorizer = TfidfVectorizer(analyzer=tfidf_analyzer)
    vectorizer.fit(list(questions) + list(human) + list(generated))
    tf_q = vectorizer.transform(questions)
    tf_h = vectorizer.transform(human)
    tf_g = vectorizer.transform(generated)
    n_features = len(vectorizer.vocabulary_)
    n_components = min(max_components, n_features - 1, n_rows - 1)
    if n_components < 1:
        raise ValueError(
            f"TDM: too little data for a latent space (vocabulary {n_features}, {n_rows} questions)"
        )
    basis = question_basis(tf_q, n_components)
    z_q, z_h, z_g = (np.asarray(tf @ basis) for tf in (tf_q, tf_h, tf_g))

    q_len = np.array([max(count_length_tokens(t), 1) for t in questions], dtype=float)
    stats = {
        "human": {
            "length_ratio": np.array([count_length_tokens(t) for t in human]) / q_len,
            "lexical_accommodation": _sparse_row_cosine(tf_q, tf_h),
            "semantic_coupling": _row_cosine(z_q, z_h),
        },
        "generated": {
            "length_ratio": np.array([count_length_tokens(t) for t in generated]) / q_len,
            "lexical_accommodation": _sparse_row_cosine(tf_q, tf_g),
            "semantic_coupling": _row_cosine(z_q, z_g),
        },
    }

    buckets = np.asarray(bucket_ids)
    per_bucket: dict[str, float] = {}
    gaps: dict[str, dict[str, float]] = {}
    n_rows_per_bucket: dict[str, int] = {}
    skipped: dict[str, str] = {}
    for bucket in sorted(set(bucket_ids)):
        rows = buckets == bucket
        n_b = int(rows.sum())
        if n_b < min_bucket_size:
            skipped[bucket] = f"{n_b} rows < min_bucket_size {min_bucket_size}"
            continue
        bucket_gaps = {
            name: scaled_w1(stats["generated"][name][rows], stats["human"][name][rows]) for name in ROW_STATS
        }
        bucket_gaps["transition"] = transition_gap(
            transition_matrix(z_q[rows], z_g[rows]), transition_matrix(z_q[rows], z_h[rows])
        )
        gaps[bucket] = bucket_gaps
        per_bucket[bucket] = float(np.mean([1.0 / (1.0 + g) for g in bucket_gaps.values()]))
        n_rows_per_bucket[bucket] = n_b
    values = np.array(list(per_bucket.values()))
    rows_out = (
        {
            "rows": {
                "z_q": z_q,
                "z_h": z_h,
                "z_g": z_g,
                "human": np.stack([stats["human"][k] for k in ROW_STATS], axis=1),
                "generated": np.stack([stats["generated"][k] for k in ROW_STATS], axis=1),
            }
        }
        if return_rows
        else {}
    )
    return {
        **rows_out,
        "macro": float(values.mean()) if len(values) else float("nan"),
        "per_bucket": per_bucket,
        "gaps": gaps,
        "n_rows": n_rows_per_bucket,
        "n_buckets": len(per_bucket),
        "skipped": skipped,
        "n_components": int(basis.shape[1]),
        "vocabulary_size": n_features,
        "min_bucket_size": min_bucket_size,
    }
