"""LLM-judge composites from the 8 dimension scores (1–5), docs/method.md §9. No models here."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

DIMENSIONS = (
    "task_success",
    "factual_grounding",
    "instruction_following",
    "reference_alignment",
    "conditional_appropriateness",
    "response_shape_and_length",
    "discourse_naturalness",
    "safety",
)

COMPOSITE_WEIGHTS: dict[str, dict[str, float]] = {
    "overall": dict(zip(DIMENSIONS, (0.20, 0.15, 0.15, 0.10, 0.17, 0.08, 0.10, 0.05))),
    "utility": {
        "task_success": 0.35,
        "factual_grounding": 0.25,
        "instruction_following": 0.20,
        "reference_alignment": 0.15,
        "safety": 0.05,
    },
    "conditional_naturalness": {
        "conditional_appropriateness": 0.35,
        "response_shape_and_length": 0.20,
        "discourse_naturalness": 0.25,
        "reference_alignment": 0.15,
        "safety": 0.05,
    },
    "distribution_faithfulness": {
        "conditional_appropriateness": 0.30,
        "response_shape_and_length": 0.20,
        "discourse_naturalness": 0.20,
        "reference_alignment": 0.20,
        "factual_grounding": 0.10,
    },
}


def score_to_100(score):
    """Map a 1–5 judge score to 0–100: 100 (s − 1) / 4. Works on scalars and arrays."""
    s = np.asarray(score, dtype=float)
    if np.any((s < 1) | (s > 5)):
        raise ValueError(f"judge scores must lie in [1, 5], got {s[(s < 1) | (s > 5)][:5]}")
    out = 100.0 * (s - 1.0) / 4.0
    return float(out) if out.ndim == 0 else out


def judge_composites(scores: Mapping[str, object]) -> dict:
    """Dimension scores (scalars or equal-length arrays, 1–5) → 0–100 dimensions and composites.

    Returns {"dimensions": {dim: 0–100}, "composites": {name: 0–100}}; arrays stay per example.
    """
    missing = [d for d in DIMENSIONS if d not in scores]
    if missing:
        raise ValueError(f"missing judge dimensions: {missing}")
    unknown = sorted(set(scores) - set(DIMENSIONS))
    if unknown:
        raise ValueError(f"unknown judge dimensions: {unknown}")
    dims = {d: score_to_100(scores[d]) for d in DIMENSIONS}
    composites = {
        name: sum(w * dims[d] for d, w in weights.items()) for name, weights in COMPOSITE_WEIGHTS.items()
    }
    return {"dimensions": dims, "composites": composites}


def mean_judge_report(scores: Mapping[str, object]) -> dict:
    """Means over examples of the 0–100 dimensions and composites (for a system's table row)."""
    per_example = judge_composites(scores)
    return {
        "n": int(np.size(scores[DIMENSIONS[0]])),
        "dimensions": {d: float(np.mean(v)) for d, v in per_example["dimensions"].items()},
        "composites": {c: float(np.mean(v)) for c, v in per_example["composites"].items()},
    }
