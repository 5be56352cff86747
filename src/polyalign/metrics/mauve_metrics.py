"""Global MAUVE and per-bucket C-MAUVE on precomputed features (mauve-text 0.4.0).

`mauve.compute_mauve(p_features=..., q_features=...)` L2-normalizes the features, keeps the PCA
components explaining `kmeans_explained_var` of the variance, clusters P ∪ Q with faiss k-means
(seeded: `seed + 2`) and integrates the divergence curve. We fix the seed and every k-means knob,
subsample both sides to the same n with our own seeded generator, and record n and the number of
clusters with every score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from ..config import block_defaults
from .quiet_kmeans import quiet_faiss_kmeans

# Defaults are the config schema's evaluation.mauve block (the one place they are written).
_MAUVE = block_defaults("evaluation", "mauve")


@dataclass(frozen=True)
class MauveSettings:
    seed: int = _MAUVE["seed"]
    cap: int | None = _MAUVE["cap"]  # n = min(|human|, |generated|, cap); None = no cap
    num_buckets: int | str = _MAUVE["num_buckets"]  # "auto" = max(2, round(n / 10)) clusters
    kmeans_num_redo: int = _MAUVE["kmeans_num_redo"]
    kmeans_max_iter: int = _MAUVE["kmeans_max_iter"]
    kmeans_explained_var: float = _MAUVE["kmeans_explained_var"]
    mauve_scaling_factor: float = _MAUVE["mauve_scaling_factor"]
    divergence_curve_discretization_size: int = _MAUVE["divergence_curve_discretization_size"]
    # C-MAUVE: buckets with n below this are skipped (the config's evaluation.min_bucket_size)
    min_size: int = block_defaults("evaluation")["min_bucket_size"]

    def __post_init__(self):
        if self.num_buckets != "auto" and not isinstance(self.num_buckets, int):
            raise ValueError(f"num_buckets must be 'auto' or an int, got {self.num_buckets!r}")


def _features(values, side: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{side} features must be a 2-D matrix, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{side} features contain non-finite values")
    return arr


def _subsample(arr: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if n == arr.shape[0]:
        return arr
    return arr[np.sort(rng.choice(arr.shape[0], size=n, replace=False))]


def mauve_score(human_features, generated_features, settings: MauveSettings = MauveSettings()) -> dict:
    """MAUVE(P = generated, Q = human) on an equal-size seeded subsample of both sides."""
    import mauve  # imported lazily: the package pulls in transformers (seconds)

    human = _features(human_features, "human")
    gen = _features(generated_features, "generated")
    if human.shape[1] != gen.shape[1]:
        raise ValueError(f"feature dimensions differ: human {human.shape[1]}, generated {gen.shape[1]}")
    n = min(human.shape[0], gen.shape[0])
    if settings.cap is not None:
        n = min(n, settings.cap)
    if n < 2:
        raise ValueError(f"MAUVE needs at least 2 rows per side, got n = {n}")
    rng = np.random.default_rng(settings.seed)
    human_n = _subsample(human, n, rng)
    gen_n = _subsample(gen, n, rng)
    with quiet_faiss_kmeans():  # faiss' warning for few points per cluster (quiet_kmeans.py)
        out = mauve.compute_mauve(
            p_features=gen_n,
            q_features=human_n,
            num_buckets=settings.num_buckets,
            kmeans_num_redo=settings.kmeans_num_redo,
            kmeans_max_iter=settings.kmeans_max_iter,
            kmeans_explained_var=settings.kmeans_explained_var,
            mauve_scaling_factor=settings.mauve_scaling_factor,
            divergence_curve_discretization_size=settings.divergence_curve_discretization_size,
            seed=settings.seed,
            verbose=False,
        )
    return {
        "mauve": float(out.mauve),
        "mauve_star": float(out.mauve_star),
        "n": int(n),
        "num_clusters": int(out.num_buckets),
        "n_human_total": int(human.shape[0]),
        "n_generated_total": int(gen.shape[0]),
        "settings": asdict(settings),
    }


def conditional_mauve(
    human: Mapping[str, np.ndarray],
    generated: Mapping[str, np.ndarray],
    settings: MauveSettings = MauveSettings(),
) -> dict:
    """C-MAUVE: MAUVE per bucket; macro over scored buckets and weighted by generated rows.

    A bucket whose n = min(|human|, |generated|, cap) is below settings.min_size is reported in
    `skipped` (not scored 0).
    """
    per_bucket: dict[str, dict] = {}
    skipped: dict[str, str] = {}
    for bucket in sorted(set(human) | set(generated)):
        n_h = len(human[bucket]) if bucket in human else 0
        n_g = len(generated[bucket]) if bucket in generated else 0
        n = min(n_h, n_g) if settings.cap is None else min(n_h, n_g, settings.cap)
        if n < max(settings.min_size, 2):
            skipped[bucket] = f"n = {n} (human {n_h}, generated {n_g}) < min_size {settings.min_size}"
            continue
        per_bucket[bucket] = mauve_score(human[bucket], generated[bucket], settings)
    scores = np.array([r["mauve"] for r in per_bucket.values()])
    weights = np.array([r["n_generated_total"] for r in per_bucket.values()], dtype=float)
    return {
        "macro": float(scores.mean()) if len(scores) else float("nan"),
        "weighted": float((scores * weights).sum() / weights.sum()) if len(scores) else float("nan"),
        "per_bucket": {b: r["mauve"] for b, r in per_bucket.items()},
        "n": {b: r["n"] for b, r in per_bucket.items()},
        "num_clusters": {b: r["num_clusters"] for b, r in per_bucket.items()},
        "n_generated": {b: r["n_generated_total"] for b, r in per_bucket.items()},
        "n_buckets": len(per_bucket),
        "skipped": skipped,
        "settings": asdict(settings),
    }
