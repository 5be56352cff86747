"""evaluate_system: every metric of docs/method.md §9 for one system, overall, per language, per
bucket and per corpus, with bootstrap confidence intervals of the headline numbers."""
from __future__ import annotations

import logging
from collections import Counter

import numpy as np

from polyalign.metrics import diversity_scores

from .resampling import bootstrap_replicates, ci_summary
from .rows import EvalRows, build_eval_rows
from .scope_metrics import (HEADLINE_METRICS, METRIC_BOUNDS, cheap_metrics, eligible_buckets,
                            expensive_metrics, headline_values)
from .settings import EvaluationSettings
from .store import METRICS_FORMAT

OVERALL = "overall"
log = logging.getLogger("polyalign.evaluation")


def _scopes(rows: EvalRows) -> dict[str, np.ndarray]:
    scopes = {OVERALL: np.arange(len(rows.ids))}
    for lang in sorted(set(rows.languages.tolist())):
        scopes[lang] = np.flatnonzero(rows.languages == lang)
    return scopes


def _scope_details(rows: EvalRows, idx: np.ndarray, settings: EvaluationSettings,
                   expensive_ci: bool, label: str) -> tuple[dict, dict]:
    """(details, replicates) of one scope."""
    eligible, skipped = eligible_buckets(rows, idx, settings.min_bucket_size)
    cheap = cheap_metrics(rows, idx, eligible, settings)
    exp = expensive_metrics(rows, idx, eligible, settings, cheap)
    point = headline_values(cheap, exp)
    strata = rows.languages[idx] if label == OVERALL else None
    reps = bootstrap_replicates(rows, idx, strata, eligible, settings, expensive_ci, label)
    alpha = settings.bootstrap.alpha
    div = settings.diversity
    utility = {k: v for k, v in cheap["utility"].items() if k != "qa_f1_per_bucket"}
    details = {
        "n": int(idx.size),
        "headline": {m: ci_summary(point[m], reps.get(m), alpha, METRIC_BOUNDS[m])
                     for m in HEADLINE_METRICS},
        "eligible_buckets": eligible, "small_buckets": skipped,
        "diversity": diversity_scores([rows.answers[i] for i in idx], seed=div.seed,
                                      n_samples=div.n_samples, n_references=div.n_references),
        **cheap, **exp, "utility": utility,
    }
    return details, reps


def _per_bucket(rows: EvalRows, scopes: dict[str, dict]) -> dict[str, dict]:
    """One entry per test bucket; distributional values come from the bucket's language scope."""
    out = {}
    for bucket in sorted(set(rows.buckets.tolist())):
        sel = np.flatnonzero(rows.buckets == bucket)
        lang = str(rows.languages[sel[0]])
        d = scopes[lang]
        point = d["nuf"]["points"].get(bucket)
        out[bucket] = {
            "language": lang, "track": str(rows.tracks[sel[0]]), "n": int(sel.size),
            "eligible": bucket in d["eligible_buckets"],
            **{name: float(values[sel].mean()) for name, values in rows.utility.items()},
            "bng": d["bng"]["per_bucket"].get(bucket),
            "bng_robust": d["bng_robust"]["per_bucket"].get(bucket),
            "hcr": d["hcr"]["per_bucket"].get(bucket),
            "c_mauve": d["c_mauve"]["per_bucket"].get(bucket),
            "tdm": d["tdm"]["per_bucket"].get(bucket),
            "nuf_point": point, "on_frontier": bucket in d["nuf"]["frontier"],
        }
    return out


def _per_corpus(rows: EvalRows) -> dict[str, dict]:
    out = {}
    for corpus in sorted(set(rows.datasets.tolist())):
        sel = np.flatnonzero(rows.datasets == corpus)
        out[corpus] = {"n": int(sel.size),
                       "languages": sorted(set(rows.languages[sel].tolist())),
                       **{name: float(v[sel].mean()) for name, v in rows.utility.items()}}
    return out


def _generation_stats(gens: list[dict]) -> dict:
    stats = {"n": len(gens),
             "finish_reasons": dict(Counter(str(g.get("finish_reason")) for g in gens)),
             "empty_answers": sum(1 for g in gens if not g["answer"].strip())}
    tokens = [g["output_tokens"] for g in gens if isinstance(g.get("output_tokens"), (int, float))]
    if tokens:
        stats["mean_output_tokens"] = float(np.mean(tokens))
    found = [bool(g["answer_found"]) for g in gens if "answer_found" in g]
    if found:
        stats["answer_found_rate"] = float(np.mean(found))
    return stats


def evaluate_system(test_records: list[dict], generations: list[dict], human_feats, gen_feats,
                    references: dict, human_emb, gen_emb,
                    settings: EvaluationSettings = EvaluationSettings(),
                    system: str = "system") -> dict:
    """All metrics of one system on the full test split (see docs/evaluation.md).

    human_feats / gen_feats: polyalign.features.store.FeatureTable (or a mapping with ids,
    names, X and optionally valid, samples); references: the
    polyalign.references.v1 artifact (train references); human_emb / gen_emb: EmbeddingTable or
    mapping with ids, E (both None: MAUVE and everything built on it is NaN, with a note).
    """
    rows = build_eval_rows(test_records, generations, human_feats, gen_feats, references,
                           human_emb, gen_emb, settings, system)
    scopes, replicates = {}, {}
    bs = settings.bootstrap
    for label, idx in _scopes(rows).items():
        log.info("%s: scope %s, %d prompts", system, label, idx.size)
        expensive_ci = label != OVERALL or bs.expensive_overall
        scopes[label], replicates[label] = _scope_details(rows, idx, settings, expensive_ci,
                                                          f"{system}/{label}")
    return {
        "format": METRICS_FORMAT, "system": system, "n_prompts": len(rows.ids),
        "languages": {k: v["n"] for k, v in scopes.items() if k != OVERALL},
        "settings": settings.to_dict(), "zh_tokenization": settings.zh_tokenization,
        "headline": {label: d["headline"] for label, d in scopes.items()},
        "scopes": scopes,
        "per_bucket": _per_bucket(rows, scopes),
        "per_corpus": _per_corpus(rows),
        "generation_stats": _generation_stats(rows.generations),
        "bootstrap": {"fingerprint": rows.fingerprint, "seed": bs.seed, "alpha": bs.alpha,
                      "n_resamples": bs.n_resamples,
                      "n_resamples_expensive": bs.n_resamples_expensive,
                      "expensive_overall": bs.expensive_overall, "replicates": replicates},
    }
