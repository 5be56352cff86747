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


def detector_summary(system_scores, human_scores, threshold: float, aggregate: float,
                     higher_is_ai: bool = True) -> dict:
    """Predicted-AI rate of the system (and of the human answers), AUROC and Joint."""
    rate = predicted_ai_rate(system_scores, threshold, higher_is_ai)
    return {
        "threshold": threshold, "higher_is_ai": higher_is_ai,
        "predicted_ai_rate": rate,
        "human_predicted_ai_rate": predicted_ai_rate(human_scores, threshold, higher_is_ai),
        "auroc": detector_auroc(system_scores, human_scores, higher_is_ai),
        "joint": joint_score(aggregate, rate),
        "n_system": int(np.size(system_scores)), "n_human": int(np.size(human_scores)),
    }
