"""The ablation table's detector column: per variant and language, the parent's AI rate minus the
variant's (the mean over the detectors of the rate at the primary calibrated FPR), with Table 4's
pooled two-level interval on paired prompt draws. The detectors then say whether the component a
variant changes makes the answers harder to tell from human ones (lower is better: a parent
flagged less than its variant means the component helps).

The rates come from `detectors.summary.detector_summary` run on the parents and variants alone
(the variants are scored by the same detector jobs as the systems); the Joint needs an Aggregate
the variants have no Table 2 entry for, so it is left out here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..detectors.summary import detector_summary, fpr_key
from ..evaluation.pooled import paired_difference
from .ablations import NO_EFFECT, VERDICTS
from .replication import decide

METRIC = "ai_rate"


def detector_ablation_rows(
    rows_by_seed: Mapping[str, Sequence[dict]],
    test: Sequence[tuple[str, str]],
    val: Sequence[tuple[str, str]],
    variants: Mapping[str, str],
    detectors: Sequence[str],
    *,
    fprs: Sequence[float],
    n_resamples: int,
    seed: int,
    alpha: float,
) -> list[dict]:
    """Ablation rows (report.ablations layout, metric "ai_rate", no floor: the human baselines
    are not scored by the detectors) for every variant and language of `test`."""
    systems = list(dict.fromkeys([*variants.values(), *variants]))
    summary, replicates = detector_summary(
        rows_by_seed,
        test,
        val,
        systems,
        detectors,
        {s: {} for s in rows_by_seed},
        fprs=fprs,
        tpr_fprs=fprs[:1],
        n_resamples=n_resamples,
        seed=seed,
        alpha=alpha,
        comparisons=(),
    )
    key = f"ai_rate@{fpr_key(fprs[0])}"
    languages = sorted({lg for _, lg in test})
    mean = summary["metrics"]["mean"]
    points = {
        g: {lg: {METRIC: [s["point"] for s in mean[g][lg][key]["seeds"]]} for lg in languages}
        for g in systems
    }
    rates = {
        "seeds": replicates["seeds"],
        "n_prompts": replicates["n_prompts"],
        "per_seed": {
            g: {lg: {METRIC: replicates["per_seed"][g][lg]["mean"]} for lg in languages} for g in systems
        },
    }
    rows = []
    for variant, parent in variants.items():
        for lg in languages:
            diff = paired_difference(rates, points, parent, variant, lg, METRIC, alpha)
            rows.append(
                {
                    "variant": variant,
                    "parent": parent,
                    "scope": lg,
                    "metric": METRIC,
                    "diff": {k: diff[k] for k in ("point", "low", "high")},
                    "floor": None,
                    "verdict": VERDICTS.get(decide(diff, METRIC), NO_EFFECT),
                }
            )
    return rows
