"""Two-level paired bootstrap of a mean over seeds and prompts.

Each system contributes an array [n_seeds, n_prompts] (NaN = missing cell). A resample draws
seeds, then prompts, with replacement (`evaluation.pooled.draw_counts`, the draws of Table 2);
every system uses the same draws, so differences between systems are paired. The statistic is
the mean over the drawn (seed, prompt) cells that are not NaN.
"""

from __future__ import annotations

import numpy as np

from ..evaluation.pooled import draw_counts


def two_level_mean_ci(
    arrays: dict[str, np.ndarray], *, n_resamples: int, seed: int, alpha: float = 0.05
) -> dict:
    """{system: {point, low, high, n_resamples, alpha}} with shared draws across systems."""
    shapes = {np.shape(a) for a in arrays.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"every system needs one [n_seeds, n_prompts] array, got shapes {shapes}")
    n_seeds, n_prompts = next(iter(shapes))
    prompt_counts, seed_counts = draw_counts(["all"] * n_prompts, n_seeds, n_resamples, seed)
    result = {}
    for system, values in arrays.items():
        values = np.asarray(values, dtype=float)
        finite = np.isfinite(values)
        # weight of cell (s, p) in resample r: C[r, s] * W[r, p]
        totals = np.einsum("rs,sp,rp->r", seed_counts, np.where(finite, values, 0.0), prompt_counts)
        cells = np.einsum("rs,sp,rp->r", seed_counts, finite.astype(float), prompt_counts)
        with np.errstate(invalid="ignore", divide="ignore"):
            boots = np.where(cells > 0, totals / cells, np.nan)
        point = float(np.nanmean(values)) if finite.any() else float("nan")
        kept = boots[np.isfinite(boots)]
        low, high = np.quantile(kept, [alpha / 2, 1 - alpha / 2]) if kept.size else (np.nan, np.nan)
        result[system] = {
            "point": point,
            "low": float(low),
            "high": float(high),
            "n_resamples": n_resamples,
            "alpha": alpha,
        }
    return result
