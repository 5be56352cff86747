"""All metrics of one scope (a set of prompt rows, possibly a bootstrap resample with repeats).

The same function gives the point estimate (all rows of the scope) and every bootstrap replicate,
so a confidence interval is always the interval of exactly the reported number. Bucket
eligibility (>= min_bucket_size test rows) is decided once on the full scope and kept fixed
across resamples; a resample evaluates the same buckets whatever their resampled size.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from polyalign.metrics import (aggregate_score, bng, bng_robust, hcr,
                               naturalness_utility_frontier, tdm)

from .resample_kernels import resampled_bng, resampled_hcr
from .rows import EvalRows
from .settings import EvaluationSettings

CHEAP_METRICS = ("em", "qa_f1", "rouge_l", "bng_macro", "bng_weighted", "bng_robust_macro",
                 "bng_robust_weighted", "hcr_macro", "hcr_weighted")
EXPENSIVE_METRICS = ("g_mauve", "c_mauve_macro", "c_mauve_weighted", "tdm", "nuf",
                     "nuf_multi_turn", "aggregate")
HEADLINE_METRICS = CHEAP_METRICS + EXPENSIVE_METRICS
# Range of every headline metric (intervals are clipped to it): BNG is unbounded above.
METRIC_BOUNDS = {m: (0.0, float("inf")) if m in ("bng_macro", "bng_weighted") else (0.0, 1.0)
                 for m in HEADLINE_METRICS}
NAN = float("nan")


def eligible_buckets(rows: EvalRows, idx: np.ndarray, min_bucket_size: int) -> tuple[list[str], dict]:
    """Buckets of the scope with >= min_bucket_size test rows, and the others with a reason."""
    names, counts = np.unique(rows.buckets[idx], return_counts=True)
    eligible = [str(b) for b, k in zip(names, counts) if k >= min_bucket_size]
    skipped = {str(b): f"{int(k)} test rows < min_bucket_size {min_bucket_size}"
               for b, k in zip(names, counts) if k < min_bucket_size}
    return eligible, skipped


def _by_bucket(matrix: np.ndarray, groups: dict[str, np.ndarray],
               mask: np.ndarray | None = None) -> dict:
    out = {}
    for b, sel in groups.items():
        sel = sel if mask is None else sel[mask[sel]]
        if sel.size:
            out[b] = matrix[sel]
    return out


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else NAN


def cheap_metrics(rows: EvalRows, idx: np.ndarray, eligible: list[str],
                  settings: EvaluationSettings, resample: bool = False) -> dict:
    """Utility, BNG (paper and robust) and HCR of the rows `idx`.

    resample=True computes BNG and HCR with the exact vectorised kernels of
    `resample_kernels`; the point estimate always uses `polyalign.metrics` itself.
    """
    groups = rows.groups(idx, eligible)
    utility = {name: _mean(values[idx]) for name, values in rows.utility.items()}
    utility["qa_f1_per_bucket"] = {b: _mean(rows.utility["qa_f1"][sel]) for b, sel in groups.items()}
    human = _by_bucket(rows.human_X, groups, rows.human_valid)
    generated = _by_bucket(rows.gen_X, groups, rows.gen_valid)
    names = rows.feature_names
    lower, upper = settings.hcr_band
    if resample:
        ranks = (_by_bucket(rows.human_rank, groups, rows.human_valid),
                 _by_bucket(rows.gen_rank, groups, rows.gen_valid))
        return {"utility": utility, "bng": resampled_bng(human, generated),
                "bng_robust": resampled_bng(human, generated, True, *ranks),
                "hcr": resampled_hcr(rows.covered, rows.buckets, idx)}
    all_buckets = [str(b) for b in np.unique(rows.buckets[idx])]
    return {
        "utility": utility,
        "n_invalid_features": int((~rows.gen_valid[idx]).sum()),
        "bng": bng(human, generated, min_bucket_size=1, feature_names=names),
        "bng_robust": bng_robust(human, generated, min_bucket_size=1, feature_names=names),
        "hcr": hcr(_by_bucket(rows.gen_X, rows.groups(idx, all_buckets)), rows.references, names,
                   lower=lower, upper=upper),
    }


def _tdm(rows: EvalRows, idx: np.ndarray, eligible: list[str], settings: EvaluationSettings) -> dict:
    multi = [b for b in eligible if rows.tracks[rows.rows_of(idx, b)][:1].tolist() == ["multi"]]
    sel = idx[np.isin(rows.buckets[idx], multi)]
    if sel.size < 3:
        return {"macro": NAN, "per_bucket": {}, "note": "no multi-track bucket with enough rows"}
    try:
        return tdm([rows.questions[i] for i in sel], [rows.human[i] for i in sel],
                   [rows.answers[i] for i in sel], rows.buckets[sel].tolist(),
                   min_bucket_size=1, max_components=settings.tdm_max_components,
                   seed=settings.seed)
    except ValueError as e:  # e.g. a vocabulary too small for one SVD component
        return {"macro": NAN, "per_bucket": {}, "note": f"TDM not computable: {e}"}


def expensive_metrics(rows: EvalRows, idx: np.ndarray, eligible: list[str],
                      settings: EvaluationSettings, cheap: dict) -> dict:
    """G-MAUVE, C-MAUVE, TDM, NUF (paper and multi-turn) and Aggregate of the rows `idx`."""
    from polyalign.metrics.mauve_metrics import conditional_mauve, mauve_score

    if rows.human_E is None:
        g_mauve = {"mauve": NAN, "note": "no embeddings given: MAUVE not computed"}
        c_mauve = {"macro": NAN, "weighted": NAN, "per_bucket": {}, "note": g_mauve["note"]}
    else:
        h_idx, g_idx = idx[rows.human_E_ok[idx]], idx[rows.gen_E_ok[idx]]
        g_mauve = (mauve_score(rows.human_E[h_idx], rows.gen_E[g_idx], settings.mauve)
                   if min(h_idx.size, g_idx.size) >= 2 else {"mauve": NAN, "note": "fewer than 2 rows"})
        g_mauve["n_invalid_embeddings"] = int(idx.size - g_idx.size)
        # eligibility was decided on the full scope; a resampled bucket is scored at any size >= 2
        bucket_settings = replace(settings.mauve_for_buckets(), min_size=2)
        groups = rows.groups(idx, eligible)
        c_mauve = conditional_mauve(_by_bucket(rows.human_E, groups, rows.human_E_ok),
                                    _by_bucket(rows.gen_E, groups, rows.gen_E_ok), bucket_settings)
    turn = _tdm(rows, idx, eligible, settings)
    qa_b, bng_b = cheap["utility"]["qa_f1_per_bucket"], cheap["bng"]["per_bucket"]
    nuf = naturalness_utility_frontier(qa_b, bng_b, c_mauve["per_bucket"])
    nuf_mt = naturalness_utility_frontier(qa_b, bng_b, c_mauve["per_bucket"], tdm=turn["per_bucket"])
    if not turn["per_bucket"]:
        nuf_mt["hypervolume"] = NAN  # no multi-turn bucket: the variant is undefined, not 0
    agg = aggregate_score(cheap["utility"]["qa_f1"], cheap["bng"]["macro"], g_mauve["mauve"],
                          nuf["hypervolume"] if nuf["n_buckets"] else NAN)
    return {"g_mauve": g_mauve, "c_mauve": c_mauve, "tdm": turn, "nuf": nuf,
            "nuf_multi_turn": nuf_mt, "aggregate": agg}


def headline_values(cheap: dict, expensive: dict | None = None) -> dict[str, float]:
    """The scalar headline metrics of a scope's detail dicts."""
    out = {
        "em": cheap["utility"]["em"], "qa_f1": cheap["utility"]["qa_f1"],
        "rouge_l": cheap["utility"]["rouge_l"],
        "bng_macro": cheap["bng"]["macro"], "bng_weighted": cheap["bng"]["weighted"],
        "bng_robust_macro": cheap["bng_robust"]["macro"],
        "bng_robust_weighted": cheap["bng_robust"]["weighted"],
        "hcr_macro": cheap["hcr"]["macro"], "hcr_weighted": cheap["hcr"]["weighted"],
    }
    if expensive is not None:
        nuf = expensive["nuf"]
        out.update({
            "g_mauve": expensive["g_mauve"]["mauve"],
            "c_mauve_macro": expensive["c_mauve"]["macro"],
            "c_mauve_weighted": expensive["c_mauve"]["weighted"],
            "tdm": expensive["tdm"]["macro"],
            "nuf": nuf["hypervolume"] if nuf["n_buckets"] else NAN,
            "nuf_multi_turn": expensive["nuf_multi_turn"]["hypervolume"],
            "aggregate": expensive["aggregate"]["aggregate"],
        })
    return {k: (float(v) if v is not None and math.isfinite(float(v)) else NAN)
            for k, v in out.items()}
