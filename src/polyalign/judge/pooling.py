"""Two-level paired bootstrap of a mean over seeds and prompts.

Each system contributes an array [n_seeds, n_prompts] (NaN = missing cell). A resample draws
n_seeds seeds with replacement, then n_prompts prompts with replacement; every system uses the
same draws, so differences between systems are paired. The statistic is the mean over the
drawn (seed, prompt) cells that are not NaN.
"""

from __future__ import annotations

import numpy as np


def two_level_draws(
    n_seeds: int, n_prompts: int, n_resamples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, n_seeds, size=(n_resamples, n_seeds))
    prompts = rng.integers(0, n_prompts, size=(n_resamples, n_prompts))
    return seeds, prompts


def _resampled_means(values: np.ndarray, seed_draws: np.ndarray, prompt_draws: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    filled = np.where(finite, values, 0.0)
    out = np.empty(seed_draws.shape[0])
    for b in range(seed_draws.shape[0]):
        rows = filled[seed_draws[b]][:, prompt_draws[b]]
        n = finite[seed_draws[b]][:, prompt_draws[b]].sum()
        out[b] = rows.sum() / n if n else np.nan
    return out


def two_level_mean_ci(
    arrays: dict[str, np.ndarray], *, n_resamples: int, seed: int, alpha: float = 0.05
) -> dict:
    """{system: {point, low, high, n_resamples, alpha}} with shared draws across systems."""
    shapes = {np.shape(a) for a in arrays.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"every system needs one [n_seeds, n_prompts] array, got shapes {shapes}")
    n_seeds, n_prompts = next(iter(shapes))
    seed_draws, prompt_draws = two_level_draws(n_seeds, n_prompts, n_resamples, seed)
    result = {}
    for system, values in arrays.items():
        values = np.asarray(values, dtype=float)
        point = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        boots = _resampled_means(values, seed_draws, prompt_draws)
        finite = boots[np.isfinite(boots)]
        low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2]) if finite.size else (np.nan, np.nan)
        result[system] = {
            "point": point,
            "low": float(low),
            "high": float(high),
            "n_resamples": n_resamples,
            "alpha": alpha,
        }
    return result
