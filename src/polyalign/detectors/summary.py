"""Table 4's numbers: calibrated thresholds, predicted-AI rates, AUROC, TPR at fixed FPR and the
Joint score per system x detector x language, with paired prompt-bootstrap intervals.

Scores come as rows {detector, system ("human" for human answers), split, id, language, score}
(score None: an empty response, which no detector can score; it counts as flagged, since a human
answer is never empty). All maths runs on the AI-side scale (score, or -score for Binoculars).

- Thresholds: per detector and language, on the validation split's human answers at each FPR in
  `fprs` (`metrics.detectors.threshold_at_fpr`); a response is judged with its language's one.
- Rates at the thresholds; the human row is the realised FPR on the test answers.
- AUROC and TPR at FPR: system outputs against the human test answers of the same prompts,
  from the scores of the scope (languages pooled in `overall`).
- Joint = harmonic mean of the scope's Aggregate (point estimate) and 1 - rate.
- Intervals: one prompt bootstrap (within-language draws, `metrics.bootstrap.resample_indices`)
  shared by every system and the human answers, so system differences are paired.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import rankdata

from ..evaluation.pooled import ci_summary
from ..io import InputError
from ..metrics.bootstrap import resample_indices
from ..metrics.detectors import threshold_at_fpr
from .criteria import BINOCULARS_THRESHOLDS
from .zero_shot import HIGHER_IS_AI

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


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Mann-Whitney AUROC (ties count half); +inf scores rank above every finite one."""
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    return _auroc_sorted(pos, np.sort(neg))


def _auroc_sorted(pos: np.ndarray, neg_sorted: np.ndarray) -> float:
    below = np.searchsorted(neg_sorted, pos, side="left")
    below_or_tied = np.searchsorted(neg_sorted, pos, side="right")
    return float((below + below_or_tied).sum() / (2.0 * pos.size * neg_sorted.size))


def _auroc_rows(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUROC of every row of pos [R, m] against the same row of neg [R, k] (average ranks for ties)."""
    m, k = pos.shape[1], neg.shape[1]
    ranks = rankdata(np.concatenate([pos, neg], axis=1), axis=1)
    return (ranks[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * k)


def _joint_rows(aggregate: float, rate: np.ndarray) -> np.ndarray:
    """`metrics.detectors.joint_score` over an array of rates."""
    if not np.isfinite(aggregate):
        return np.full(rate.shape, np.nan)
    q, h = min(max(aggregate, 0.0), 1.0), 1.0 - np.clip(rate, 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((q == 0.0) | (h == 0.0), 0.0, 2.0 * q * h / (q + h))


def detector_summary(
    rows: Sequence[dict],
    test: Sequence[tuple[str, str]],
    val: Sequence[tuple[str, str]],
    systems: Sequence[str],
    detectors: Sequence[str],
    aggregates: Mapping[str, Mapping[str, float]],
    *,
    fprs: Sequence[float] = (0.05, 0.01),
    tpr_fprs: Sequence[float] = (0.01, 0.05, 0.10),
    n_resamples: int = 1000,
    seed: int = 42,
    alpha: float = 0.05,
    comparisons: Sequence[tuple[str, str]] = (("hdpo", "sft"), ("hdpo", "dpo")),
) -> dict:
    """test/val: [(id, language)] of the split's prompts in a fixed order; aggregates:
    {system: {scope: Aggregate point}}. The first of `fprs` is the primary operating point."""
    primary = fprs[0]
    test_ids = [i for i, _ in test]
    langs = np.array([lg for _, lg in test])
    val_langs = np.array([lg for _, lg in val])
    languages = sorted(set(langs.tolist()))
    scopes = {lg: np.flatnonzero(langs == lg) for lg in languages}
    scopes[OVERALL] = np.arange(len(test_ids))
    groups = ["human", *systems]
    # row 0: the sample itself; rows 1..R: within-language resamples. Each row lists the chosen
    # prompts language by language (sorted), so a language's scope is a fixed column slice.
    order = np.concatenate([scopes[lg] for lg in languages])
    draws = np.stack([order, *resample_indices(len(test_ids), n_resamples, seed, langs)])
    offsets = np.cumsum([0] + [scopes[lg].size for lg in languages])
    columns = {lg: slice(offsets[k], offsets[k + 1]) for k, lg in enumerate(languages)}
    columns[OVERALL] = slice(0, len(test_ids))
    out = {
        "detectors": list(detectors),
        "systems": list(systems),
        "scopes": list(scopes),
        "fprs": [float(f) for f in fprs],
        "tpr_fprs": [float(f) for f in tpr_fprs],
        "n_prompts": {k: int(v.size) for k, v in scopes.items()},
        "bootstrap": {
            "method": "single-seed prompt bootstrap, within-language draws, paired across systems",
            "n_resamples": n_resamples,
            "seed": seed,
            "alpha": alpha,
        },
        "thresholds": {},
        "published": {},
        "metrics": {},
        "differences": {},
        "flags": {},
    }
    replicates: dict = {}
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
                r = {f"ai_rate@{fpr_key(f)}": flags[g][f][idx].mean(axis=1) for f in fprs}
                r["auroc"] = _auroc_rows(s_idx, h_idx)
                for f in tpr_fprs:
                    # the threshold of metrics.detectors.threshold_at_fpr on each resample's humans
                    cut = h_sorted[:, m - 1 - int(np.floor(f * m))]
                    r[f"tpr@{fpr_key(f)}"] = (s_idx > cut[:, None]).mean(axis=1)
                agg = aggregates.get(g, {}).get(scope, float("nan")) if g != "human" else float("nan")
                r["joint"] = _joint_rows(float(agg), r[f"ai_rate@{fpr_key(primary)}"])
                replicates[(det, g, scope)] = r
    for (det, g, scope), reps in replicates.items():
        out["metrics"].setdefault(det, {}).setdefault(g, {})[scope] = {
            k: ci_summary(v[0], v[1:], alpha, bounds=(0.0, 1.0)) for k, v in reps.items()
        }
    # the mean over detectors of the rate and of the Joint, replicate by replicate (paired draws)
    rate_key = f"ai_rate@{fpr_key(primary)}"
    for g in groups:
        for scope in scopes:
            mean = {
                k: np.mean([replicates[(d, g, scope)][k] for d in detectors], axis=0)
                for k in (rate_key, "joint")
            }
            out["metrics"].setdefault("mean", {}).setdefault(g, {})[scope] = {
                k: ci_summary(v[0], v[1:], alpha, bounds=(0.0, 1.0)) for k, v in mean.items()
            }
            replicates[("mean", g, scope)] = mean
    for det in [*detectors, "mean"]:
        for a, b in comparisons:
            if a not in systems or b not in systems:
                continue
            out["differences"].setdefault(det, {})[f"{a}-{b}"] = {
                scope: {
                    k: ci_summary(
                        replicates[(det, a, scope)][k][0] - replicates[(det, b, scope)][k][0],
                        replicates[(det, a, scope)][k][1:] - replicates[(det, b, scope)][k][1:],
                        alpha,
                        bounds=(-1.0, 1.0),
                    )
                    for k in (rate_key, "joint")
                }
                for scope in scopes
            }
    return out


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
            flagged = v > (t if higher else -t)
            out.setdefault(label, {})[g] = {scope: float(flagged[m].mean()) for scope, m in scopes.items()}
    return out


def roc_curves(
    rows: Sequence[dict], test: Sequence[tuple[str, str]], systems: Sequence[str], detectors: Sequence[str]
) -> dict:
    """{detector: {language: {system: (fpr, tpr, auroc)}}} on the test split, system outputs against
    the human answers of the same prompts (empty responses placed above every scored one)."""
    from ..metrics.detectors import roc_points

    ids = [i for i, _ in test]
    langs = np.array([lg for _, lg in test])
    out: dict = {}
    for det in detectors:
        scores = {g: score_matrix(rows, det, g, "test", ids) for g in ["human", *systems]}
        finite = np.concatenate([v[np.isfinite(v)] for v in scores.values()])
        top = float(finite.max()) + 1.0 if finite.size else 1.0
        scores = {g: np.where(np.isfinite(v), v, top) for g, v in scores.items()}
        for lg in sorted(set(langs.tolist())):
            m = langs == lg
            out.setdefault(det, {})[lg] = {
                g: (*roc_points(scores[g][m], scores["human"][m]), auroc(scores[g][m], scores["human"][m]))
                for g in systems
            }
    return out
