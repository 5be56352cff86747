"""AI-text detector summaries from given detector scores (docs/method.md §9). No models here.

Score direction differs by detector: Fast-DetectGPT's criterion is higher for machine text
(`higher_is_ai=True`), a Binoculars score is lower for machine text (`higher_is_ai=False`).
A response is flagged as AI when its score is strictly on the AI side of the threshold
(Binoculars: score < threshold); a score equal to the threshold counts as human.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata


def _scores(values, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} detector scores contain non-finite values")
    return arr


def predicted_ai_rate(scores, threshold: float, higher_is_ai: bool = True) -> float:
    """Share of responses the detector flags as AI at `threshold` (NaN for no responses)."""
    s = _scores(scores, "system")
    if s.size == 0:
        return float("nan")
    flagged = s > threshold if higher_is_ai else s < threshold
    return float(flagged.mean())


def detector_auroc(system_scores, human_scores, higher_is_ai: bool = True) -> float:
    """AUROC of separating system outputs (positives) from human answers (negatives).

    Mann–Whitney form: P(score_AI-side(system) > score_AI-side(human)) + 0.5 P(tie).
    0.5 = indistinguishable from humans, 1 = every system output looks more AI than every human.
    """
    pos = _scores(system_scores, "system")
    neg = _scores(human_scores, "human")
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    if not higher_is_ai:
        pos, neg = -pos, -neg
    ranks = rankdata(np.concatenate([pos, neg]))
    rank_sum = ranks[: pos.size].sum()
    return float((rank_sum - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size))


def joint_score(aggregate: float, ai_rate: float) -> float:
    """Harmonic mean of Aggregate and human-likeness (1 − predicted-AI rate); 0 if either is 0."""
    if not (math.isfinite(aggregate) and math.isfinite(ai_rate)):
        return float("nan")
    quality = min(max(aggregate, 0.0), 1.0)
    human_likeness = 1.0 - min(max(ai_rate, 0.0), 1.0)
    if quality == 0.0 or human_likeness == 0.0:
        return 0.0
    return 2.0 * quality * human_likeness / (quality + human_likeness)


def detection_metrics(
    system_scores, human_scores, threshold: float, aggregate: float, higher_is_ai: bool = True
) -> dict:
    """Predicted-AI rate of the system (and of the human answers), AUROC and Joint."""
    rate = predicted_ai_rate(system_scores, threshold, higher_is_ai)
    return {
        "threshold": threshold,
        "higher_is_ai": higher_is_ai,
        "predicted_ai_rate": rate,
        "human_predicted_ai_rate": predicted_ai_rate(human_scores, threshold, higher_is_ai),
        "auroc": detector_auroc(system_scores, human_scores, higher_is_ai),
        "joint": joint_score(aggregate, rate),
        "n_system": int(np.size(system_scores)),
        "n_human": int(np.size(human_scores)),
    }


def _ai_side(scores, higher_is_ai: bool, name: str) -> np.ndarray:
    s = _scores(scores, name)
    return s if higher_is_ai else -s


def threshold_at_fpr(human_scores, fpr: float, higher_is_ai: bool = True) -> float:
    """The threshold that flags at most a share `fpr` of the given human answers.

    On the AI-side scale (score, or -score when lower is AI) it is the k-th largest human score
    with k = floor(fpr * n) + 1: strictly above it lie at most floor(fpr * n) human answers, so
    the realised FPR on these answers is <= fpr (ties can only lower it). Returned on the
    detector's own scale (so `predicted_ai_rate(..., threshold, higher_is_ai)` applies it).
    """
    if not 0.0 <= fpr < 1.0:
        raise ValueError(f"fpr must be in [0, 1), got {fpr}")
    h = np.sort(_ai_side(human_scores, higher_is_ai, "human"))[::-1]
    if h.size == 0:
        raise ValueError("cannot calibrate a threshold on no human answers")
    t = float(h[int(math.floor(fpr * h.size))])
    return t if higher_is_ai else -t


def tpr_at_fpr(system_scores, human_scores, fpr: float, higher_is_ai: bool = True) -> float:
    """Share of system outputs flagged at the threshold that holds these human answers to `fpr`."""
    return predicted_ai_rate(system_scores, threshold_at_fpr(human_scores, fpr, higher_is_ai), higher_is_ai)


def roc_points(system_scores, human_scores, higher_is_ai: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(FPR, TPR) of every threshold, from (0, 0) to (1, 1), system outputs positive."""
    pos = _ai_side(system_scores, higher_is_ai, "system")
    neg = _ai_side(human_scores, higher_is_ai, "human")
    cuts = np.unique(np.concatenate([pos, neg]))[::-1]
    fpr = np.concatenate([[0.0], [(neg >= c).mean() for c in cuts]])
    tpr = np.concatenate([[0.0], [(pos >= c).mean() for c in cuts]])
    return fpr, tpr
