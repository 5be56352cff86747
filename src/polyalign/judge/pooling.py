"""Two-level paired interval of a mean over seeds and prompts.

Each system contributes an array [n_seeds, n_prompts] (NaN = missing cell). A seed's value is
the mean of its cells that are not NaN; the statistic is the mean over seeds. Its interval is
Table 2's two-level t interval (`evaluation.pooled.interval_summary`: the seed component plus
the bootstrap over prompts, `draw_counts`); every system uses the same prompt draws, so
differences between systems are paired.
"""

from __future__ import annotations

import numpy as np

from ..evaluation.pooled import draw_counts, interval_summary


def two_level_mean_ci(
    arrays: dict[str, np.ndarray], *, n_resamples: int, seed: int, alpha: float = 0.05
) -> dict:
    """{system: {point, low, high, n_resamples, alpha, ...}} with shared draws across systems."""
    shapes = {np.shape(a) for a in arrays.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"every system needs one [n_seeds, n_prompts] array, got shapes {shapes}")
    _, n_prompts = next(iter(shapes))
    prompt_counts = draw_counts(["all"] * n_prompts, n_resamples, seed).astype(float)
    result = {}
    for system, values in arrays.items():
        values = np.asarray(values, dtype=float)
        finite = np.isfinite(values)
        cells, totals = finite.sum(axis=1), np.where(finite, values, 0.0).sum(axis=1)
        # seed s in resample r: sum_p W[r, p] y[s, p] / sum_p W[r, p] over its finite cells
        rep_totals = np.where(finite, values, 0.0) @ prompt_counts.T
        rep_cells = finite.astype(float) @ prompt_counts.T
        with np.errstate(invalid="ignore", divide="ignore"):
            seed_points = np.where(cells > 0, totals / cells, np.nan)
            seed_reps = np.where(rep_cells > 0, rep_totals / rep_cells, np.nan)
        result[system] = interval_summary(seed_points, seed_reps, alpha, n_prompts)
    return result
