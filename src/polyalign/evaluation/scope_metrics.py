"""Point estimates of every metric of one scope (a set of test prompts: all, or one language).

Bucket eligibility (>= min_bucket_size test rows) is decided here on the full scope; the
bootstrap (`pooled.py`) keeps it fixed across resamples. MAUVE is computed with the quantization
kept (`quantized_mauve`): the k-means cluster of every response, from which a bootstrap
replicate recounts the histograms (`kernels.mauve_from_counts`). The quantization follows
mauve-text 0.4.0 step by step, so the point estimate equals `polyalign.metrics.mauve_metrics.
mauve_score` (tests/evaluation/test_kernels.py).
"""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np

from polyalign.metrics.distributional import bng, bng_robust, hcr
from polyalign.metrics.frontier import aggregate_score, naturalness_utility_frontier
from polyalign.metrics.mauve_metrics import MauveSettings
from polyalign.metrics.tdm import tdm

from .kernels import label_counts, mauve_from_counts
from .rows import EvalRows
from .settings import EvaluationSettings

CHEAP_METRICS = (
    "em",
    "qa_f1",
    "rouge_l",
    "language_fidelity",
    "bng_macro",
    "bng_weighted",
    "bng_robust_macro",
    "bng_robust_weighted",
    "hcr_macro",
    "hcr_weighted",
)
MAUVE_METRICS = ("g_mauve", "c_mauve_macro", "c_mauve_weighted", "tdm", "nuf", "nuf_multi_turn", "aggregate")
HEADLINE_METRICS = CHEAP_METRICS + MAUVE_METRICS
# Range of every headline metric (intervals are clipped to it): BNG is unbounded above.
METRIC_BOUNDS = {
    m: (0.0, float("inf")) if m in ("bng_macro", "bng_weighted") else (0.0, 1.0) for m in HEADLINE_METRICS
}
NAN = float("nan")


def eligible_buckets(rows: EvalRows, idx: np.ndarray, min_bucket_size: int) -> tuple[list[str], dict]:
    """Buckets of the scope with >= min_bucket_size test rows, and the others with a reason."""
    names, counts = np.unique(rows.buckets[idx], return_counts=True)
    eligible = [str(b) for b, k in zip(names, counts) if k >= min_bucket_size]
    skipped = {
        str(b): f"{int(k)} test rows < min_bucket_size {min_bucket_size}"
        for b, k in zip(names, counts)
        if k < min_bucket_size
    }
    return eligible, skipped


def _by_bucket(matrix: np.ndarray, groups: dict[str, np.ndarray], mask: np.ndarray | None = None) -> dict:
    out = {}
    for b, sel in groups.items():
        sel = sel if mask is None else sel[mask[sel]]
        if sel.size:
            out[b] = matrix[sel]
    return out


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else NAN


def cheap_metrics(rows: EvalRows, idx: np.ndarray, eligible: list[str], settings: EvaluationSettings) -> dict:
    """Utility, language fidelity, BNG (paper and robust) and HCR of the rows `idx`."""
    groups = rows.groups(idx, eligible)
    utility = {name: _mean(values[idx]) for name, values in rows.utility.items()}
    utility["qa_f1_per_bucket"] = {b: _mean(rows.utility["qa_f1"][sel]) for b, sel in groups.items()}
    human = _by_bucket(rows.human_X, groups, rows.human_valid)
    generated = _by_bucket(rows.gen_X, groups, rows.gen_valid)
    names = rows.feature_names
    lower, upper = settings.hcr_band
    all_buckets = [str(b) for b in np.unique(rows.buckets[idx])]
    return {
        "utility": utility,
        "language_fidelity": {
            "share": _mean(rows.in_language[idx]),
            "n_not_in_language": int((rows.in_language[idx] == 0).sum()),
        },
        "n_invalid_features": int((~rows.gen_valid[idx]).sum()),
        "bng": bng(human, generated, min_bucket_size=1, feature_names=names),
        "bng_robust": bng_robust(human, generated, min_bucket_size=1, feature_names=names),
        "hcr": hcr(
            _by_bucket(rows.gen_X, rows.groups(idx, all_buckets)),
            rows.references,
            names,
            lower=lower,
            upper=upper,
        ),
    }


def _subsample_index(size: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """The rows `mauve_score` keeps (same generator calls as its `_subsample`)."""
    return np.arange(size) if n == size else np.sort(rng.choice(size, size=n, replace=False))


def _cluster_labels(
    human: np.ndarray, generated: np.ndarray, num_clusters: int, settings: MauveSettings
) -> tuple[np.ndarray, np.ndarray]:
    """k-means labels of P ∪ Q exactly as mauve-text's `cluster_feats` (l2 norm, no whitening,
    PCA on all rows keeping `kmeans_explained_var`, faiss k-means seeded with seed + 2)."""
    import faiss
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import normalize

    # One OpenMP thread: faiss' thread pool spin-waits on a busy machine (0.5 s instead of 0.1 ms
    # for a small k-means); the centroids are the same.
    faiss.omp_set_num_threads(1)
    data = normalize(np.vstack([human, generated]), norm="l2", axis=1)
    pca = PCA(n_components=None, whiten=False, random_state=settings.seed + 1).fit(data)
    last = int(np.argmax(np.cumsum(pca.explained_variance_ratio_) >= settings.kmeans_explained_var))
    data = pca.transform(data)[:, : last + 1].astype(np.float32)
    kmeans = faiss.Kmeans(
        data.shape[1],
        num_clusters,
        niter=settings.kmeans_max_iter,
        verbose=False,
        nredo=settings.kmeans_num_redo,
        update_index=True,
        seed=settings.seed + 2,
        min_points_per_centroid=1,  # no faiss warning for few points per cluster (metrics/quiet_kmeans.py)
    )
    kmeans.train(data)
    labels = kmeans.index.search(data, 1)[1].reshape(-1).astype(np.int64)
    return labels[: len(human)], labels[len(human) :]


def quantized_mauve(human: np.ndarray, generated: np.ndarray, settings: MauveSettings | None = None) -> dict:
    """`mauve_score` (MAUVE(P = generated, Q = human) on an equal-size seeded subsample) plus
    the cluster label of every input row (-1: left out by the subsample)."""
    settings = settings if settings is not None else MauveSettings()
    human, generated = np.asarray(human, dtype=np.float64), np.asarray(generated, dtype=np.float64)
    if human.shape[1] != generated.shape[1]:
        raise ValueError(f"feature dimensions differ: human {human.shape[1]}, generated {generated.shape[1]}")
    n = min(human.shape[0], generated.shape[0], settings.cap or human.shape[0])
    if n < 2:
        raise ValueError(f"MAUVE needs at least 2 rows per side, got n = {n}")
    rng = np.random.default_rng(settings.seed)
    keep_h = _subsample_index(human.shape[0], n, rng)
    keep_g = _subsample_index(generated.shape[0], n, rng)
    k = max(2, int(round(n / 10))) if settings.num_buckets == "auto" else settings.num_buckets
    lab_h, lab_g = _cluster_labels(human[keep_h], generated[keep_g], k, settings)
    labels_h = np.full(human.shape[0], -1, dtype=np.int64)
    labels_g = np.full(generated.shape[0], -1, dtype=np.int64)
    labels_h[keep_h], labels_g[keep_g] = lab_h, lab_g
    ones_h, ones_g = np.ones((1, labels_h.size)), np.ones((1, labels_g.size))
    score = mauve_from_counts(
        label_counts(ones_g, labels_g, k),
        label_counts(ones_h, labels_h, k),
        settings.mauve_scaling_factor,
        settings.divergence_curve_discretization_size,
    )[0]
    return {
        "mauve": float(score),
        "n": int(n),
        "num_clusters": int(k),
        "n_human_total": int(human.shape[0]),
        "n_generated_total": int(generated.shape[0]),
        "settings": asdict(settings),
        "labels_human": labels_h,
        "labels_generated": labels_g,
    }


def _scope_labels(rows: EvalRows, h_idx: np.ndarray, g_idx: np.ndarray, result: dict) -> dict:
    """Labels of a quantization as arrays over all test rows (-1: not in it)."""
    h = np.full(len(rows.ids), -1, dtype=np.int64)
    g = np.full(len(rows.ids), -1, dtype=np.int64)
    h[h_idx], g[g_idx] = result.pop("labels_human"), result.pop("labels_generated")
    return {"human": h, "generated": g, "num_clusters": result["num_clusters"]}


def _tdm(rows: EvalRows, idx: np.ndarray, eligible: list[str], settings: EvaluationSettings) -> dict:
    multi = [b for b in eligible if rows.tracks[rows.rows_of(idx, b)][:1].tolist() == ["multi"]]
    sel = idx[np.isin(rows.buckets[idx], multi)]
    if sel.size < 3:
        return {"macro": NAN, "per_bucket": {}, "note": "no multi-track bucket with enough rows"}
    try:
        return tdm(
            [rows.questions[i] for i in sel],
            [rows.human[i] for i in sel],
            [rows.answers[i] for i in sel],
            rows.buckets[sel].tolist(),
            min_bucket_size=1,
            max_components=settings.tdm_max_components,
            return_rows=True,
        ) | {"row_index": sel}
    except ValueError as e:  # e.g. a vocabulary too small for one SVD component
        return {"macro": NAN, "per_bucket": {}, "note": f"TDM not computable: {e}"}


def mauve_metrics(
    rows: EvalRows,
    idx: np.ndarray,
    eligible: list[str],
    settings: EvaluationSettings,
    cheap: dict,
    bucket_cache: dict | None = None,
) -> tuple[dict, dict]:
    """(G-MAUVE, C-MAUVE, TDM, NUF (paper and multi-turn) and Aggregate of the rows `idx`,
    the quantizations: {"global": labels, "buckets": {bucket: labels}}). bucket_cache: the
    bucket quantizations of earlier scopes (filled in)."""
    bucket_cache = {} if bucket_cache is None else bucket_cache
    quantization: dict = {"global": None, "buckets": bucket_cache}
    if rows.human_E is None:
        g_mauve = {"mauve": NAN, "note": "no embeddings given: MAUVE not computed"}
        c_mauve = {"macro": NAN, "weighted": NAN, "per_bucket": {}, "note": g_mauve["note"]}
    else:
        h_idx, g_idx = idx[rows.human_E_ok[idx]], idx[rows.gen_E_ok[idx]]
        if min(h_idx.size, g_idx.size) >= 2:
            g_mauve = quantized_mauve(rows.human_E[h_idx], rows.gen_E[g_idx], settings.mauve)
            quantization["global"] = _scope_labels(rows, h_idx, g_idx, g_mauve)
        else:
            g_mauve = {"mauve": NAN, "note": "fewer than 2 rows"}
        g_mauve["n_invalid_embeddings"] = int(idx.size - g_idx.size)
        c_mauve = _conditional_mauve(rows, idx, eligible, settings, quantization["buckets"])
    turn = _tdm(rows, idx, eligible, settings)
    qa_b, bng_b = cheap["utility"]["qa_f1_per_bucket"], cheap["bng"]["per_bucket"]
    nuf = naturalness_utility_frontier(qa_b, bng_b, c_mauve["per_bucket"])
    nuf_mt = naturalness_utility_frontier(qa_b, bng_b, c_mauve["per_bucket"], tdm=turn["per_bucket"])
    if not turn["per_bucket"]:
        nuf_mt["hypervolume"] = NAN  # no multi-turn bucket: the variant is undefined, not 0
    agg = aggregate_score(
        cheap["utility"]["qa_f1"],
        cheap["bng"]["macro"],
        g_mauve["mauve"],
        nuf["hypervolume"] if nuf["n_buckets"] else NAN,
    )
    return (
        {
            "g_mauve": g_mauve,
            "c_mauve": c_mauve,
            "tdm": turn,
            "nuf": nuf,
            "nuf_multi_turn": nuf_mt,
            "aggregate": agg,
        },
        quantization,
    )


def _conditional_mauve(
    rows: EvalRows, idx: np.ndarray, eligible: list[str], settings: EvaluationSettings, labels: dict
) -> dict:
    """C-MAUVE over the eligible buckets (`conditional_mauve` with the quantizations kept).

    `labels` carries the quantizations between scopes: a bucket lies in the pooled scope and in
    its language's, with the same rows, so it is clustered once."""
    mauve_settings = settings.mauve_for_buckets()
    per_bucket, skipped = {}, {}
    for bucket, sel in rows.groups(idx, eligible).items():
        h_idx, g_idx = sel[rows.human_E_ok[sel]], sel[rows.gen_E_ok[sel]]
        n_h, n_g = h_idx.size, g_idx.size
        n = min(n_h, n_g) if mauve_settings.cap is None else min(n_h, n_g, mauve_settings.cap)
        if n < max(mauve_settings.min_size, 2):
            skipped[bucket] = f"n = {n} (human {n_h}, generated {n_g}) < min_size {mauve_settings.min_size}"
            continue
        if bucket not in labels:
            result = quantized_mauve(rows.human_E[h_idx], rows.gen_E[g_idx], mauve_settings)
            labels[bucket] = _scope_labels(rows, h_idx, g_idx, result) | {"result": result}
        per_bucket[bucket] = labels[bucket]["result"]
    scores = np.array([r["mauve"] for r in per_bucket.values()])
    weights = np.array([r["n_generated_total"] for r in per_bucket.values()], dtype=float)
    return {
        "macro": float(scores.mean()) if len(scores) else NAN,
        "weighted": float((scores * weights).sum() / weights.sum()) if len(scores) else NAN,
        "per_bucket": {b: r["mauve"] for b, r in per_bucket.items()},
        "n": {b: r["n"] for b, r in per_bucket.items()},
        "num_clusters": {b: r["num_clusters"] for b, r in per_bucket.items()},
        "n_generated": {b: r["n_generated_total"] for b, r in per_bucket.items()},
        "n_buckets": len(per_bucket),
        "skipped": skipped,
        "settings": asdict(mauve_settings),
    }


def headline_values(cheap: dict, expensive: dict | None = None) -> dict[str, float]:
    """The scalar headline metrics of a scope's detail dicts."""
    out = {
        "em": cheap["utility"]["em"],
        "qa_f1": cheap["utility"]["qa_f1"],
        "rouge_l": cheap["utility"]["rouge_l"],
        "language_fidelity": cheap["language_fidelity"]["share"],
        "bng_macro": cheap["bng"]["macro"],
        "bng_weighted": cheap["bng"]["weighted"],
        "bng_robust_macro": cheap["bng_robust"]["macro"],
        "bng_robust_weighted": cheap["bng_robust"]["weighted"],
        "hcr_macro": cheap["hcr"]["macro"],
        "hcr_weighted": cheap["hcr"]["weighted"],
    }
    if expensive is not None:
        nuf = expensive["nuf"]
        out.update(
            {
                "g_mauve": expensive["g_mauve"]["mauve"],
                "c_mauve_macro": expensive["c_mauve"]["macro"],
                "c_mauve_weighted": expensive["c_mauve"]["weighted"],
                "tdm": expensive["tdm"]["macro"],
                "nuf": nuf["hypervolume"] if nuf["n_buckets"] else NAN,
                "nuf_multi_turn": expensive["nuf_multi_turn"]["hypervolume"],
                "aggregate": expensive["aggregate"]["aggregate"],
            }
        )
    return {k: (float(v) if v is not None and math.isfinite(float(v)) else NAN) for k, v in out.items()}
