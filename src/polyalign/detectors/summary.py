"""Table 4's numbers: calibrated thresholds, predicted-AI rates, AUROC, TPR at fixed FPR and the
Joint score per system x detector x language, pooled over run seeds with paired intervals.

Scores come as rows {detector, system ("human" for human answers), split, id, language, score}
(score None: an empty or otherwise unscorable text). A human answer without a score (SQuAD v2
keeps its unanswerable questions with an empty answer) has no human side to compare with: its
prompt is left out of calibration (validation) or of every Table 4 metric (test, for every
system, so the comparison stays paired), and the summary counts it under "excluded_prompts". A
system's response without an answer is left out of the rates, AUROC and TPR of its system (they
are computed on the answered prompts of each resample) and counted (`no_answer`: {system:
{scope: {k, n}}}, summed over seeds), so a system that answers nothing has no rate rather than a
perfect one. All maths runs on the AI-side
scale (score, or -score for Binoculars).

- Thresholds: per detector and language, on the validation split's human answers at each FPR in
  `fprs` (`metrics.detectors.threshold_at_fpr`); a response is judged with its language's one.
- Rates at the thresholds; the human row is the realised FPR on the test answers.
- AUROC and TPR at FPR: system outputs against the human test answers of the same prompts,
  from the scores of the scope (languages pooled in `overall`).
- Joint = harmonic mean of the scope's Aggregate (point estimate) and 1 - rate.
- Seeds: everything above is computed per run seed (that seed's detector models, outputs,
  thresholds and Aggregate); a metric's point is its mean over seeds.
- Intervals: Table 2's two-level t interval (`evaluation.pooled.interval_summary`: a seed
  component plus the bootstrap over test prompts within language, `draw_counts`), one prompt draw
  shared by every seed, system and the human answers, so system differences are paired; each
  seed's own prompt-only interval is kept beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import rankdata

from ..config import block_defaults
from ..evaluation.pooled import draw_counts, interval_summary, seed_intervals
from ..io import InputError
from ..metrics.detectors import threshold_at_fpr
from .settings import BINOCULARS_THRESHOLDS, HIGHER_IS_AI

# Keyword defaults are the config schema's detectors block (the one place they are written).
_DETECTORS = block_defaults("detectors")

OVERALL = "overall"
# Fixed thresholds published with the detectors, on each detector's own scale.
PUBLISHED_THRESHOLDS = {
    "binoculars": {
        "low_fpr": BINOCULARS_THRESHOLDS["low_fpr"],
        "accuracy": BINOCULARS_THRESHOLDS["accuracy"],
    },
    "fast_detectgpt_p_ai": {"p_ai_0.5": 0.5},
}


def fpr_key(fpr: float) -> str:
    return f"{100 * fpr:g}%"


def joint_key(detector: str) -> str:
    """The replicates' key of a detector's Joint score (its primary AI rate's key is its name)."""
    return f"{detector}:joint"


def _ai_side(detector: str, score) -> float:
    if score is None:
        return np.inf
    return float(score) if HIGHER_IS_AI[detector] else -float(score)


def score_matrix(
    rows: Sequence[dict], detector: str, system: str, split: str, ids: Sequence[str], key: str = "score"
) -> np.ndarray:
    """AI-side scores of `system` on `ids` (in that order); every id must be present once."""
    got = {
        r["id"]: r.get(key)
        for r in rows
        if r["detector"] == detector and r["system"] == system and r["split"] == split
    }
    missing = [i for i in ids if i not in got]
    if missing:
        raise InputError(
            f"detector {detector}: {system} has no {split} score for {len(missing)} "
            f"prompt(s) (first {missing[0]!r})"
        )
    return np.array([_ai_side(detector, got[i]) for i in ids])


def unscored_human_answers(
    rows_by_seed: Mapping[str, Sequence[dict]], prompts: Sequence[tuple[str, str]], split: str, detectors
) -> set[str]:
    """Ids of `prompts` whose human answer has no score (None) under any detector in any run seed.
    A missing row is not "unscored": `score_matrix` refuses it later."""
    wanted = {i for i, _ in prompts}
    dets = set(detectors)
    return {
        r["id"]
        for rows in rows_by_seed.values()
        for r in rows
        if r["system"] == "human"
        and r["split"] == split
        and r["detector"] in dets
        and r["id"] in wanted
        and r.get("score") is None
    }


def with_human_scores(
    rows_by_seed: Mapping[str, Sequence[dict]], prompts: Sequence[tuple[str, str]], split: str, detectors
) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """(the prompts whose human answer every detector scored, {language: prompts left out})."""
    gone = unscored_human_answers(rows_by_seed, prompts, split, detectors)
    excluded: dict[str, int] = {}
    for i, lg in prompts:
        if i in gone:
            excluded[lg] = excluded.get(lg, 0) + 1
    return [p for p in prompts if p[0] not in gone], dict(sorted(excluded.items()))


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Mann-Whitney AUROC (ties count half); +inf scores rank above every finite one."""
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    return _auroc_sorted(pos, np.sort(neg))


def _auroc_sorted(pos: np.ndarray, neg_sorted: np.ndarray) -> float:
    below = np.searchsorted(neg_sorted, pos, side="left")
    below_or_tied = np.searchsorted(neg_sorted, pos, side="right")
    return float((below + below_or_tied).sum() / (2.0 * pos.size * neg_sorted.size))


def _auroc_rows(pos: np.ndarray, neg: np.ndarray, answered: np.ndarray | None = None) -> np.ndarray:
    """AUROC of every row of pos [R, m] against the same row of neg [R, k] (average ranks for ties),
    over the answered positives of each row (`answered` [R, m]; None: all). Unanswered positives
    carry +inf, so they rank above every answered one and every (finite) negative, and the
    answered positives' rank sum is m_a (m_a + 1) / 2 plus the negatives below them. NaN for a row
    without an answered positive."""
    k = neg.shape[1]
    answered = np.isfinite(pos) if answered is None else answered
    ranks = rankdata(np.concatenate([pos, neg], axis=1), axis=1)[:, : pos.shape[1]]
    m_a = answered.sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(m_a > 0, ((ranks * answered).sum(axis=1) - m_a * (m_a + 1) / 2) / (m_a * k), np.nan)


def _answered_mean(flags: np.ndarray, answered: np.ndarray) -> np.ndarray:
    """Row means of `flags` [R, m] over the answered entries; NaN for a row with none."""
    n = answered.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (flags & answered).sum(axis=1) / n, np.nan)


def _joint_rows(aggregate: float, rate: np.ndarray) -> np.ndarray:
    """`metrics.detectors.joint_score` over an array of rates."""
    if not np.isfinite(aggregate):
        return np.full(rate.shape, np.nan)
    q, h = min(max(aggregate, 0.0), 1.0), 1.0 - np.clip(rate, 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((q == 0.0) | (h == 0.0), 0.0, 2.0 * q * h / (q + h))


def draws_from_counts(W: np.ndarray, languages: Sequence[str]) -> np.ndarray:
    """Index form of prompt counts W [R, n] (drawn within language, `evaluation.pooled.draw_counts`):
    row r lists every drawn prompt W[r, i] times, language by language (sorted), so a language's
    resampled prompts are a fixed column slice, as in the sample row `language_order`."""
    langs = np.asarray(languages)
    groups = [np.flatnonzero(langs == lg) for lg in sorted(set(langs.tolist()))]
    rows = [np.concatenate([np.repeat(g, W[r, g]) for g in groups]) for r in range(W.shape[0])]
    return np.stack(rows) if rows else np.zeros((0, langs.size), dtype=np.int64)


def language_order(languages: Sequence[str]) -> np.ndarray:
    langs = np.asarray(languages)
    return np.concatenate([np.flatnonzero(langs == lg) for lg in sorted(set(langs.tolist()))])


def seed_replicates(
    rows: Sequence[dict],
    test: Sequence[tuple[str, str]],
    val: Sequence[tuple[str, str]],
    systems: Sequence[str],
    detectors: Sequence[str],
    aggregates: Mapping[str, Mapping[str, float]],
    draws: np.ndarray,
    *,
    fprs: Sequence[float],
    tpr_fprs: Sequence[float],
) -> dict:
    """One seed's thresholds, flags, published-threshold rates and metric replicates.

    draws [R + 1, n]: row 0 the sample itself, rows 1..R resampled prompt indices (language by
    language, `draws_from_counts`); the same rows for every seed and system (paired).
    Returns {"thresholds", "published", "flags", "replicates": {(det, group, scope): {metric: [R + 1]}}}.
    """
    primary = fprs[0]
    test_ids = [i for i, _ in test]
    langs = np.array([lg for _, lg in test])
    val_langs = np.array([lg for _, lg in val])
    languages = sorted(set(langs.tolist()))
    sizes = [int((langs == lg).sum()) for lg in languages]
    offsets = np.cumsum([0] + sizes)
    columns = {lg: slice(offsets[k], offsets[k + 1]) for k, lg in enumerate(languages)}
    columns[OVERALL] = slice(0, len(test_ids))
    scopes = {lg: np.flatnonzero(langs == lg) for lg in languages}
    scopes[OVERALL] = np.arange(len(test_ids))
    groups = ["human", *systems]
    out = {"thresholds": {}, "published": {}, "flags": {}, "replicates": {}, "no_answer": {}}
    for det in detectors:
        h_val = score_matrix(rows, det, "human", "val", [i for i, _ in val])
        thresholds = {}
        for lg in languages:
            hv = h_val[val_langs == lg]
            if hv.size == 0:
                raise InputError(
                    f"detector {det}: no validation human answers in language {lg!r} to calibrate on"
                )
            thresholds[lg] = {fpr_key(f): threshold_at_fpr(hv, f) for f in fprs}
        out["thresholds"][det] = {
            lg: {k: (t if HIGHER_IS_AI[det] else -t) for k, t in v.items()} for lg, v in thresholds.items()
        }
        scores = {g: score_matrix(rows, det, g, "test", test_ids) for g in groups}
        answered = {g: np.isfinite(scores[g]) for g in groups}
        if not answered["human"].all():
            raise InputError(f"detector {det}: a human test answer has no score")
        out["no_answer"][det] = {
            g: {scope: int((~answered[g][m]).sum()) for scope, m in scopes.items()} for g in systems
        }
        h = scores["human"]
        flags = {
            g: {f: scores[g] > np.array([thresholds[lg][fpr_key(f)] for lg in langs]) for f in fprs}
            for g in groups
        }
        out["flags"][det] = {g: dict(zip(test_ids, flags[g][primary].tolist())) for g in systems}
        out["published"][det] = _published_rates(rows, det, groups, test_ids, scopes)
        for scope, cols in columns.items():
            idx = draws[:, cols]
            h_idx = h[idx]
            h_sorted = np.sort(h_idx, axis=1)
            m = idx.shape[1]
            for g in groups:
                s_idx = scores[g][idx]
                a_idx = answered[g][idx]
                r = {f"ai_rate@{fpr_key(f)}": _answered_mean(flags[g][f][idx], a_idx) for f in fprs}
                r["auroc"] = _auroc_rows(s_idx, h_idx, a_idx)
                for f in tpr_fprs:
                    # the threshold of metrics.detectors.threshold_at_fpr on each resample's humans
                    cut = h_sorted[:, m - 1 - int(np.floor(f * m))]
                    r[f"tpr@{fpr_key(f)}"] = _answered_mean(s_idx > cut[:, None], a_idx)
                agg = aggregates.get(g, {}).get(scope, float("nan")) if g != "human" else float("nan")
                r["joint"] = _joint_rows(float(agg), r[f"ai_rate@{fpr_key(primary)}"])
                out["replicates"][(det, g, scope)] = r
    # the mean over detectors of the rate and of the Joint, replicate by replicate (paired draws)
    rate_key = f"ai_rate@{fpr_key(primary)}"
    for g in groups:
        for scope in scopes:
            out["replicates"][("mean", g, scope)] = {
                k: np.mean([out["replicates"][(d, g, scope)][k] for d in detectors], axis=0)
                for k in (rate_key, "joint")
            }
    return out


def _pooled_ci(points: np.ndarray, reps: np.ndarray, n_prompts: int, alpha: float, bounds) -> dict:
    """Pooled interval (mean over seeds; `evaluation.pooled.interval_summary`) plus each seed's own."""
    ci = interval_summary(points, reps, alpha, n_prompts, bounds)
    ci["seeds"] = list(seed_intervals(range(len(points)), points, reps, alpha, n_prompts, bounds).values())
    return ci


def detector_summary(
    rows_by_seed: Mapping[str, Sequence[dict]],
    test: Sequence[tuple[str, str]],
    val: Sequence[tuple[str, str]],
    systems: Sequence[str],
    detectors: Sequence[str],
    aggregates_by_seed: Mapping[str, Mapping[str, Mapping[str, float]]],
    *,
    fprs: Sequence[float] = tuple(_DETECTORS["fprs"]),
    tpr_fprs: Sequence[float] = tuple(_DETECTORS["tpr_fprs"]),
    n_resamples: int = _DETECTORS["n_resamples"],
    seed: int = 42,
    alpha: float = 0.05,
    comparisons: Sequence[tuple[str, str]] = (("hdpo", "sft"), ("hdpo", "dpo")),
) -> tuple[dict, dict]:
    """(summary, replicates) of Table 4, pooled over run seeds like Table 2.

    rows_by_seed: {run seed: score rows of that seed's detectors}; test/val: [(id, language)] of
    the split's prompts in a fixed order; aggregates_by_seed: {run seed: {system: {scope:
    Aggregate point of that seed}}}. The first of `fprs` is the primary operating point.

    Every metric is computed per seed (that seed's thresholds, scores and Aggregate); its point
    is the mean over seeds, its interval the two-level t interval of `evaluation.pooled`
    (seed component plus `draw_counts`' test prompts within language, one draw shared by every
    seed, system and the human answers, so differences are paired). Each interval also lists every
    seed's own prompt-only interval under "seeds" (run-seed order).

    replicates: the `evaluation.pooled.pooled_replicates` layout ({"seeds", "n_prompts", "per_seed":
    {group: {scope: {detector: [S, R]}}}}) of the primary AI rate per detector (and "mean"),
    for the paired differences of claim 5 (`evaluation.pooled.paired_difference`).
    """
    seeds = [str(s) for s in rows_by_seed]
    if not seeds:
        raise InputError("detector summary: no run seeds given")
    missing = [s for s in seeds if s not in {str(k) for k in aggregates_by_seed}]
    if missing:
        raise InputError(f"detector summary: no Aggregate for run seed(s) {missing}")
    aggregates_by_seed = {str(k): v for k, v in aggregates_by_seed.items()}
    all_test, all_val = list(test), list(val)
    test, excluded_test = with_human_scores(rows_by_seed, all_test, "test", detectors)
    val, excluded_val = with_human_scores(rows_by_seed, all_val, "val", detectors)
    if not test:
        raise InputError(
            f"detector summary: none of the {len(all_test)} test prompts has a scored human answer "
            f"(left out: {excluded_test}); Table 4 compares systems with human answers"
        )
    uncalibrated = sorted({lg for _, lg in test} - {lg for _, lg in val})
    if uncalibrated:
        raise InputError(
            f"detector summary: no scored validation human answer in language(s) {uncalibrated} "
            f"to calibrate on (left out as unscored: {excluded_val})"
        )
    primary = fprs[0]
    rate_key = f"ai_rate@{fpr_key(primary)}"
    langs = [lg for _, lg in test]
    languages = sorted(set(langs))
    scopes = [*languages, OVERALL]
    groups = ["human", *systems]
    W = draw_counts(langs, n_resamples, seed)
    draws = np.vstack([language_order(langs)[None, :], draws_from_counts(W, langs)])
    per_seed = {
        s: seed_replicates(
            rows,
            test,
            val,
            systems,
            detectors,
            aggregates_by_seed[s],
            draws,
            fprs=fprs,
            tpr_fprs=tpr_fprs,
        )
        for s, rows in zip(seeds, rows_by_seed.values())
    }
    out = {
        "detectors": list(detectors),
        "systems": list(systems),
        "seeds": seeds,
        "scopes": scopes,
        "fprs": [float(f) for f in fprs],
        "tpr_fprs": [float(f) for f in tpr_fprs],
        "n_prompts": {lg: langs.count(lg) for lg in languages} | {OVERALL: len(langs)},
        "excluded_prompts": {
            "reason": "human answer without a detector score (empty, e.g. SQuAD v2 unanswerable)",
            "val": excluded_val,
            "test": excluded_test,
        },
        "bootstrap": {
            "method": (
                f"two-level t interval over {len(seeds)} run seed(s) and test prompts (within "
                "language), paired across systems and the human answers"
            ),
            "n_resamples": n_resamples,
            "seed": seed,
            "alpha": alpha,
        },
        "thresholds": {s: r["thresholds"] for s, r in per_seed.items()},
        "published": {},
        "metrics": {},
        "differences": {},
        "flags": {s: r["flags"] for s, r in per_seed.items()},
        # answers left out of every detector's rates, AUROC and TPR: summed over the run seeds
        "no_answer": {
            g: {
                scope: {
                    "k": sum(per_seed[s]["no_answer"][detectors[0]][g][scope] for s in seeds),
                    "n": len(seeds) * (len(langs) if scope == OVERALL else langs.count(scope)),
                }
                for scope in scopes
            }
            for g in systems
        },
    }

    n_scope = out["n_prompts"]

    def stacked(det, g, scope, key):
        """(per-seed points [S], per-seed replicates [S, R])."""
        arr = np.stack([per_seed[s]["replicates"][(det, g, scope)][key] for s in seeds])
        return arr[:, 0], arr[:, 1:]

    for (det, g, scope), reps in per_seed[seeds[0]]["replicates"].items():
        out["metrics"].setdefault(det, {}).setdefault(g, {})[scope] = {
            k: _pooled_ci(*stacked(det, g, scope, k), n_scope[scope], alpha, (0.0, 1.0)) for k in reps
        }
    for det in detectors:
        pub = {s: per_seed[s]["published"][det] for s in seeds}
        out["published"][det] = {
            label: {
                g: {scope: float(np.mean([pub[s][label][g][scope] for s in seeds])) for scope in scopes}
                for g in groups
            }
            for label in pub[seeds[0]]
        }
    for det in [*detectors, "mean"]:
        for a, b in comparisons:
            if a not in systems or b not in systems:
                continue
            out["differences"].setdefault(det, {})[f"{a}-{b}"] = {
                scope: {
                    k: _pooled_ci(
                        *(x - y for x, y in zip(stacked(det, a, scope, k), stacked(det, b, scope, k))),
                        n_scope[scope],
                        alpha,
                        (-1.0, 1.0),
                    )
                    for k in (rate_key, "joint")
                }
                for scope in scopes
            }
    replicates = {
        "seeds": seeds,
        "n_prompts": n_scope,
        "per_seed": {
            g: {
                scope: {
                    **{det: stacked(det, g, scope, rate_key)[1] for det in [*detectors, "mean"]},
                    **{joint_key(det): stacked(det, g, scope, "joint")[1] for det in [*detectors, "mean"]},
                }
                for scope in scopes
            }
            for g in groups
        },
    }
    return out, replicates


def _published_rates(rows, det, groups, test_ids, scopes) -> dict:
    """Rates at the published fixed thresholds (Binoculars) or the published P(AI) > 0.5 rule
    (Fast-DetectGPT), on the test answers; point estimates only."""
    key, name = ("p_ai", "fast_detectgpt_p_ai") if det == "fast_detectgpt" else ("score", det)
    if name not in PUBLISHED_THRESHOLDS:
        return {}
    out = {}
    for label, t in PUBLISHED_THRESHOLDS[name].items():
        higher = det == "fast_detectgpt"
        for g in groups:
            got = {
                r["id"]: r.get(key)
                for r in rows
                if r["detector"] == det and r["system"] == g and r["split"] == "test"
            }
            v = np.array([np.inf if got[i] is None else (got[i] if higher else -got[i]) for i in test_ids])
            flagged, ok = v > (t if higher else -t), np.isfinite(v)  # unanswered: left out
            out.setdefault(label, {})[g] = {
                scope: float(flagged[m & ok].mean()) if (m & ok).any() else float("nan")
                for scope, m in ((sc, np.isin(np.arange(v.size), ix)) for sc, ix in scopes.items())
            }
    return out


def vertical_average(curves: Sequence[tuple[np.ndarray, np.ndarray]], grid: np.ndarray) -> np.ndarray:
    """Mean over curves of each curve's TPR at the grid's FPR values (vertical averaging of ROC
    curves). A curve runs from (0, 0) to (1, 1) with non-decreasing FPR and TPR; between its
    points it is linear (ties broken at random), and at an FPR it reaches more than once (a
    vertical step) it takes the highest TPR."""
    tprs = []
    for fpr, tpr in curves:
        fpr, tpr = np.asarray(fpr, dtype=float), np.asarray(tpr, dtype=float)
        last = np.append(fpr[1:] != fpr[:-1], True)  # the last point at each FPR value
        tprs.append(np.interp(grid, fpr[last], tpr[last]))
    return np.mean(tprs, axis=0)


def roc_curves(
    rows_by_seed: Mapping[str, Sequence[dict]],
    test: Sequence[tuple[str, str]],
    systems: Sequence[str],
    detectors: Sequence[str],
    n_grid: int = 201,
) -> dict:
    """{detector: {language: {system: (fpr, tpr, auroc)}}} on the test split, system outputs against
    the human answers of the same prompts (responses without an answer left out, and so are
    prompts whose human answer has no score, as in `detector_summary`; a system with no answer in
    a language has no curve there).

    Pooled over run seeds: each seed's curve (its own scores) is averaged vertically on a grid of
    `n_grid` FPR values, and auroc is the mean of the seeds' AUROCs (scores of different seeds
    come from different models and are not pooled into one ranking)."""
    from ..metrics.detectors import roc_points

    test, _ = with_human_scores(rows_by_seed, test, "test", detectors)
    ids = [i for i, _ in test]
    langs = np.array([lg for _, lg in test])
    grid = np.linspace(0.0, 1.0, n_grid)
    per_seed: dict = {}
    for rows in rows_by_seed.values():
        for det in detectors:
            scores = {g: score_matrix(rows, det, g, "test", ids) for g in ["human", *systems]}
            for lg in sorted(set(langs.tolist())):
                m = langs == lg
                for g in systems:
                    pos = scores[g][m]
                    pos = pos[np.isfinite(pos)]  # prompts without an answer are left out
                    if pos.size:
                        per_seed.setdefault((det, lg, g), []).append(
                            (roc_points(pos, scores["human"][m]), auroc(pos, scores["human"][m]))
                        )
    out: dict = {}
    for (det, lg, g), curves in per_seed.items():
        out.setdefault(det, {}).setdefault(lg, {})[g] = (
            grid,
            vertical_average([c for c, _ in curves], grid),
            float(np.mean([a for _, a in curves])),
        )
    return out
