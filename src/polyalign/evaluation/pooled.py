"""The pooled two-level interval: training seeds and test prompts, paired across systems.

Point estimate of a metric = the mean over seeds of its per-seed value. Replicate r draws one
set of test prompts with replacement, within each language (counts W[r, i]), and applies it to
every seed (seeds and prompts are crossed: every seed answered the same test prompts, so a hard
prompt is hard for every seed). Every system sees the same W, so replicate r of two systems can
be subtracted (paired differences).

Interval (`seed_prompt_bounds`, docs/evaluation.md): a t interval whose variance is the sum of
a seed component (the spread of the per-seed points, S - 1 degrees of freedom) and a prompt
component (the prompt bootstrap of the seed mean, less the seed-by-prompt part that the seed
component already holds), with share-weighted degrees of freedom, centred on the point less its
prompt-resampling bias. W1-type statistics (BNG, BNG-robust) keep the plug-in point and bracket
its bias instead (`w1_bias`): the resampling bias is wrong at both ends for them.
tests/evaluation/test_interval_coverage.py checks coverage by simulation at seed shares from 0
to 0.95, and for BNG also where a system follows the human distribution.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import special

from polyalign.io import InputError, atomic_path

from .replicates import ResampleArrays, weighted_replicates
from .scope_metrics import HEADLINE_METRICS, METRIC_BOUNDS
from .w1_bias import W1_METRICS, bracket_bias, difference_bias, single_bias

REPLICATES_FORMAT = "polyalign.replicates.v2"
POWER = 0.8  # the power at which the minimum detectable effect is stated


def draw_counts(languages: Sequence[str], n_resamples: int, seed: int) -> np.ndarray:
    """W [R, n]: how often each test prompt is drawn in each replicate, within each language
    (language sizes fixed)."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(languages)
    n = labels.size
    W = np.zeros((n_resamples, n), dtype=np.int64)
    offsets = np.arange(n_resamples)[:, None] * n
    for lang in sorted(set(labels.tolist())):
        group = np.flatnonzero(labels == lang)
        drawn = group[rng.integers(0, group.size, size=(n_resamples, group.size))]
        W += np.bincount((offsets + drawn).ravel(), minlength=n_resamples * n).reshape(n_resamples, n)
    return W


def seed_prompt_bounds(seed_points, replicates, alpha: float, n_prompts: int) -> dict[str, np.ndarray]:
    """The two-level t interval, vectorised over any leading axes.

    seed_points [..., S]: each seed's value on the full test set; replicates [..., S, R]: each
    seed's value on the prompt draws W (the same draws for every seed); n_prompts: the number of
    test prompts the statistic reads (the prompt component's degrees of freedom are n - 1).
    A replicate where any seed's value is not finite is left out for every seed.

    With p_r the seed mean of replicate r, d_sr = replicates[s, r] - p_r and k = n / (n - 1)
    (the bootstrap variance of a mean is (n - 1) / n of the unbiased one):
      seed component   v_seed   = var_s(seed_points) / S                   (S - 1 df)
      prompt bootstrap v_prompt = k var_r(p_r)
      seed x prompt    v_inter  = k sum_s var_r(d_sr) / (S (S - 1))
      variance V = v_seed + max(v_prompt - v_inter, 0).
    For a mean over a crossed seeds x prompts table these are MS_seed / (nS), MS_prompt / (nS)
    and MS_residual / (nS) of the two-way ANOVA, and V is unbiased for the variance of the
    grand mean; v_seed already holds the seed x prompt noise, which v_prompt would count again.
    Degrees of freedom: 1/df = share/(S - 1) + (1 - share)/(n - 1), share = v_seed / V: each
    component's df weighted by its share of V (Satterthwaite weights by squared shares, which
    raises df exactly when the two seed df under-estimate v_seed: 92% coverage at S = 3). Centre: the point less the resampling bias
    mean_r(p_r) - point (about 0 for a mean; plug-in distances are biased). With one seed the
    interval is the prompt-only one of that seed (no seed component can be estimated).
    Returns arrays: point, centre, se, df, seed_share (v_seed / V), half (the half-width),
    low, high (not clipped), n_finite.
    """
    points = np.asarray(seed_points, dtype=float)
    reps = np.asarray(replicates, dtype=float)
    if reps.shape[:-1] != points.shape:
        raise ValueError(
            f"replicates {reps.shape} do not match seed points {points.shape} (+ replicate axis)"
        )
    S = points.shape[-1]
    usable = np.isfinite(reps).all(axis=-2, keepdims=True)
    reps = np.where(usable, reps, np.nan)
    n_finite = usable[..., 0, :].sum(axis=-1)
    k = n_prompts / (n_prompts - 1) if n_prompts > 1 else np.nan  # one prompt: no interval
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: marked by n_finite
        point = points.mean(axis=-1)
        pooled = np.nanmean(reps, axis=-2)
        v_prompt = k * np.nanvar(pooled, axis=-1, ddof=1)
        if S > 1:
            v_seed = points.var(axis=-1, ddof=1) / S
            v_inter = k * np.nanvar(reps - pooled[..., None, :], axis=-1, ddof=1).sum(axis=-1) / (S * (S - 1))
        else:
            v_seed = v_inter = np.zeros_like(point)
        prompt_part = np.maximum(v_prompt - v_inter, 0.0)
        var = v_seed + prompt_part
        # degrees of freedom: 1/df = share/(S - 1) + (1 - share)/(n - 1) (docs/evaluation.md:
        # Satterthwaite's squared shares under-cover with S = 3)
        seed_share = np.where(var > 0, v_seed / np.where(var > 0, var, 1.0), 0.0)
        inverse_df = (1 - seed_share) / (n_prompts - 1) + (seed_share / (S - 1) if S > 1 else 0.0)
        df = 1.0 / inverse_df
        se = np.sqrt(var)
        half = _t_quantile(1 - alpha / 2, df) * se
        half = np.where(var > 0, half, 0.0)  # an exactly constant statistic: zero width
        centre = point - (np.nanmean(pooled, axis=-1) - point)
    finite = (n_finite >= 2) & (n_prompts > 1)
    nan = np.full_like(point, np.nan)
    return {
        "point": point,
        "centre": np.where(finite, centre, nan),
        "se": np.where(finite, se, nan),
        "df": np.where(finite, df, nan),
        "seed_share": np.where(finite & (var > 0), seed_share, nan),
        "half": np.where(finite, half, nan),
        "low": np.where(finite, centre - half, nan),
        "high": np.where(finite, centre + half, nan),
        "n_finite": n_finite,
    }


def _t_quantile(q: float, df: np.ndarray) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    # scipy.special's quantiles are the ones scipy.stats.t.ppf calls (scipy.stats takes a second to import)
    return np.where(np.isinf(df), special.ndtri(q), special.stdtrit(np.where(np.isinf(df), 1.0, df), q))


def minimum_detectable_effect(ci: dict, power: float = POWER) -> float:
    """The smallest true difference that the interval's two-sided test detects with probability
    `power`: (t_{1 - alpha/2, df} + t_{power, df}) * se, at the seeds and prompts at hand, plus
    the width of the bias bracket of a W1-type statistic (its bias may lie anywhere in it)."""
    se, df = float(ci.get("se", float("nan"))), float(ci.get("df", float("nan")))
    if not (math.isfinite(se) and df == df):
        return float("nan")
    bracket = float(ci.get("bias_high", 0.0)) - float(ci.get("bias_low", 0.0))
    return float((_t_quantile(1 - ci["alpha"] / 2, df) + _t_quantile(power, df)) * se + bracket)


def interval_summary(
    seed_points,
    replicates,
    alpha: float,
    n_prompts: int,
    bounds: tuple[float, float] = (-np.inf, np.inf),
    bias: tuple[float, float] | None = None,
) -> dict:
    """One statistic's interval (`seed_prompt_bounds`) as a dict, clipped to the metric's range.

    Keys: point (mean over seeds), low, high, centre (the bias-corrected point), se, df,
    seed_share, alpha, n_resamples, n_finite, n_seeds, n_prompts. NaN bounds when the point or too few replicates are finite.
    bias: (low, high), the point's bias bracket of a W1-type statistic (`w1_bias.bracket_bias`:
    no resampling bias correction; centre is the middle of the bracket, and bias_low, bias_high
    are kept).
    """
    points = np.asarray(seed_points, dtype=float)
    reps = np.asarray(replicates if replicates is not None else np.empty((points.size, 0)), dtype=float)
    b = seed_prompt_bounds(points, reps.reshape(points.size, -1), alpha, n_prompts)
    if bias is not None:
        b = bracket_bias(b, *bias)
    point = float(b["point"])
    out = {
        "point": point,
        "low": float("nan"),
        "high": float("nan"),
        "centre": float("nan"),
        "se": float("nan"),
        "df": float("nan"),
        "seed_share": float("nan"),
        "alpha": alpha,
        "n_resamples": int(reps.shape[-1]) if reps.ndim else 0,
        "n_finite": int(b["n_finite"]),
        "n_seeds": int(points.size),
        "n_prompts": int(n_prompts),
    }
    if math.isfinite(point) and math.isfinite(float(b["se"])):
        lo_bound, hi_bound = bounds
        out.update(
            {
                "low": float(np.clip(b["low"], lo_bound, hi_bound)),
                "high": float(np.clip(b["high"], lo_bound, hi_bound)),
                "centre": float(b["centre"]),
                "se": float(b["se"]),
                "df": float(b["df"]),
                "seed_share": float(b["seed_share"]),
            }
        )
    if bias is not None:
        out.update({"bias_low": float(b["bias_low"]), "bias_high": float(b["bias_high"])})
    return out


def _check_aligned(arrays: Mapping[str, Mapping[object, ResampleArrays]]) -> tuple[list, list]:
    first = None
    seeds = None
    for system, by_seed in arrays.items():
        if seeds is None:
            seeds = list(by_seed)
        elif list(by_seed) != seeds:
            raise InputError(f"system {system!r} has seeds {list(by_seed)}, others {seeds}")
        for seed, a in by_seed.items():
            key = (a.ids, a.languages.tolist())
            if first is None:
                first = key
            elif key != first:
                raise InputError(
                    f"{system!r} seed {seed} was evaluated on other test prompts (ids or their order differ)"
                )
    if first is None:
        raise InputError("pooled bootstrap: no systems given")
    return seeds, first[1]


def pooled_replicates(
    arrays: Mapping[str, Mapping[object, ResampleArrays]], n_resamples: int, seed: int
) -> dict:
    """{"seeds", "n_prompts": {scope: n}, "per_seed": {system: {scope: {metric: [S, R]}}},
    "bias_bound": {system: {scope: {W1 metric: [S]}}}} (the bounds of `w1_bias`).

    arrays: {system: {seed: ResampleArrays}} with the same seeds for every system.
    """
    seeds, languages = _check_aligned(arrays)
    W = draw_counts(languages, n_resamples, seed)
    out, bias_bound = {}, {}
    for system, by_seed in arrays.items():
        per_seed = [weighted_replicates(a, W, bias_bounds=True) for a in by_seed.values()]
        out[system] = {
            scope: {m: np.stack([reps[scope][m] for reps, _ in per_seed]) for m in HEADLINE_METRICS}
            for scope in per_seed[0][0]
        }
        bias_bound[system] = {
            scope: {m: np.array([b[scope][m] for _, b in per_seed]) for m in W1_METRICS}
            for scope in per_seed[0][1]
        }
    first = next(iter(next(iter(arrays.values())).values()))
    n_prompts = {scope: int(rows.size) for scope, rows in first.scope_rows.items()}
    return {"seeds": seeds, "n_prompts": n_prompts, "per_seed": out, "bias_bound": bias_bound}


def _n_prompts(replicates: dict, scope: str) -> int:
    try:
        return int(replicates["n_prompts"][scope])
    except KeyError:
        raise InputError(f"the replicates name no prompt count for scope {scope!r}") from None


def _bias_bounds(replicates: dict, system: str, scope: str, metric: str) -> np.ndarray | None:
    """Per-seed bias bounds [S] of a W1-type metric (None for the others)."""
    if metric not in W1_METRICS:
        return None
    try:
        return np.asarray(replicates["bias_bound"][system][scope][metric], dtype=float)
    except KeyError:
        raise InputError(
            f"the replicates carry no bias bound of {metric} for {system!r} {scope!r} "
            "(written before W1 intervals bracketed their bias: rerun combine_metrics)"
        ) from None


def seed_intervals(
    seeds: Sequence, seed_points, replicates, alpha: float, n_prompts: int, bounds, bias_bounds=None
) -> dict:
    """{seed: {point, low, high}}: each seed's prompt-only interval (its own training run only);
    bias_bounds [S]: per-seed bias bounds of a W1-type statistic."""
    out = {}
    for j, (s, p) in enumerate(zip(seeds, seed_points)):
        bias = None if bias_bounds is None else single_bias(bias_bounds[j : j + 1])
        ci = interval_summary([p], replicates[j : j + 1], alpha, n_prompts, bounds, bias)
        out[str(s)] = {k: v for k, v in ci.items() if k in ("point", "low", "high")}
    return out


def headline_intervals(
    points: Mapping[str, Mapping[str, Mapping[str, Sequence[float]]]], replicates: dict, alpha: float
) -> dict:
    """headline[system][scope][metric]: the pooled interval plus each seed's own.

    points[system][scope][metric] = per-seed point estimates (seed order of `replicates`).
    """
    seeds = replicates["seeds"]
    out = {}
    for system, scopes in replicates["per_seed"].items():
        out[system] = {}
        for scope, metrics in scopes.items():
            n = _n_prompts(replicates, scope)
            out[system][scope] = {}
            for m, per_seed in metrics.items():
                seed_points = np.asarray(points[system][scope][m], dtype=float)
                bias_bounds = _bias_bounds(replicates, system, scope, m)
                bias = None if bias_bounds is None else single_bias(bias_bounds)
                ci = interval_summary(seed_points, per_seed, alpha, n, METRIC_BOUNDS[m], bias)
                ci["seeds"] = seed_intervals(
                    seeds, seed_points, per_seed, alpha, n, METRIC_BOUNDS[m], bias_bounds
                )
                out[system][scope][m] = ci
    return out


def paired_difference(
    replicates: dict,
    points: Mapping,
    a: str,
    b: str,
    scope: str,
    metric: str,
    alpha: float,
    seed_index: int | None = None,
) -> dict:
    """Interval of metric(a) - metric(b): pooled (seed_index None) or of one seed, from the
    same draws for both systems (the per-seed differences are the statistic).
    points[system][scope][metric] = per-seed point estimates. A W1-type metric brackets the
    difference's bias with both systems' bounds (`w1_bias.difference_bias`), except where the
    two systems agree on every seed and draw (identical outputs: one error, which cancels)."""
    per_seed = replicates["per_seed"]
    for s in (a, b):
        if s not in per_seed:
            raise InputError(f"no replicates for system {s!r}")
    n = _n_prompts(replicates, scope)
    keep = slice(None) if seed_index is None else slice(seed_index, seed_index + 1)
    points_a, points_b = (np.asarray(points[s][scope][metric], dtype=float)[keep] for s in (a, b))
    reps_a, reps_b = (np.asarray(per_seed[s][scope][metric], dtype=float)[keep] for s in (a, b))
    bias = None
    bounds_a, bounds_b = (_bias_bounds(replicates, s, scope, metric) for s in (a, b))
    if bounds_a is not None:
        identical = np.array_equal(points_a, points_b, equal_nan=True) and np.array_equal(
            reps_a, reps_b, equal_nan=True
        )
        bias = (0.0, 0.0) if identical else difference_bias(bounds_a[keep], bounds_b[keep])
    return interval_summary(points_a - points_b, reps_a - reps_b, alpha, n, bias=bias)


def save_replicates(path, replicates: dict) -> None:
    arrays = {"seeds": np.asarray([str(s) for s in replicates["seeds"]])}
    scopes = sorted(replicates["n_prompts"])
    arrays["scopes"] = np.asarray(scopes)
    arrays["n_prompts"] = np.asarray([replicates["n_prompts"][s] for s in scopes], dtype=np.int64)
    for system, by_scope in replicates["per_seed"].items():
        for scope, metrics in by_scope.items():
            for m, values in metrics.items():
                arrays[f"{system}/{scope}/{m}"] = values
    for system, by_scope in replicates.get("bias_bound", {}).items():
        for scope, metrics in by_scope.items():
            for m, values in metrics.items():
                arrays[f"bias_bound/{system}/{scope}/{m}"] = values
    arrays["format"] = np.asarray(REPLICATES_FORMAT)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)


def load_replicates(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        if "format" not in z.files or str(z["format"]) != REPLICATES_FORMAT:
            raise InputError(
                f"{path}: not a replicates file ({REPLICATES_FORMAT}); rerun the rule that wrote it"
            )
        per_seed: dict = {}
        bias_bound: dict = {}
        for key in z.files:
            parts = key.split("/")
            if len(parts) == 3:
                system, scope, m = parts
                per_seed.setdefault(system, {}).setdefault(scope, {})[m] = z[key]
            elif len(parts) == 4 and parts[0] == "bias_bound":
                bias_bound.setdefault(parts[1], {}).setdefault(parts[2], {})[parts[3]] = z[key]
        n_prompts = {str(s): int(n) for s, n in zip(z["scopes"], z["n_prompts"])}
        return {
            "seeds": [str(s) for s in z["seeds"]],
            "n_prompts": n_prompts,
            "per_seed": per_seed,
            "bias_bound": bias_bound,
        }
