"""evaluate_system: every metric for one system and one training seed, overall, per language,
per bucket and per corpus (point estimates), and the per-prompt arrays the pooled bootstrap
needs (`replicates.ResampleArrays`). Intervals come from the pooled bootstrap over seeds and
prompts (`pooled.py`), never from one seed alone."""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np

from polyalign.metrics.diversity import diversity_scores

from .replicates import ResampleArrays
from .rows import EvalRows, build_eval_rows
from .scope_metrics import (
    cheap_metrics,
    eligible_buckets,
    headline_values,
    mauve_metrics,
)
from .settings import EvaluationSettings
from .store import METRICS_FORMAT

OVERALL = "overall"
log = logging.getLogger("polyalign.evaluation")


def no_answer_mask(generations: list[dict]) -> np.ndarray:
    """True where a system gave no answer: an empty answer, or a reasoning prompt whose final
    answer was not found (`answer_found` false). Those rows score as they are (an empty answer
    scores 0); the tables say how many there are (docs/evaluation.md, "Systems without answers")."""
    return np.array(
        [not g["answer"].strip() or not bool(g.get("answer_found", True)) for g in generations], dtype=bool
    )


def _no_answer_counts(rows: EvalRows, scopes: dict[str, np.ndarray]) -> dict[str, dict]:
    """{scope: {k: prompts without an answer, n: prompts}}."""
    missing = no_answer_mask(rows.generations)
    return {scope: {"k": int(missing[idx].sum()), "n": int(idx.size)} for scope, idx in scopes.items()}


def _scopes(rows: EvalRows) -> dict[str, np.ndarray]:
    scopes = {OVERALL: np.arange(len(rows.ids))}
    for lang in sorted(set(rows.languages.tolist())):
        scopes[lang] = np.flatnonzero(rows.languages == lang)
    return scopes


def _scope_details(
    rows: EvalRows, idx: np.ndarray, settings: EvaluationSettings, bucket_cache: dict
) -> tuple[dict, dict]:
    """(details of one scope, what its bootstrap keeps: eligible buckets, MAUVE quantizations,
    TDM latents)."""
    eligible, skipped = eligible_buckets(rows, idx, settings.min_bucket_size)
    cheap = cheap_metrics(rows, idx, eligible, settings)
    exp, quantization = mauve_metrics(rows, idx, eligible, settings, cheap, bucket_cache)
    kept = {
        "eligible": eligible,
        "quantization": quantization,
        "tdm": exp["tdm"].pop("rows", None),
        "tdm_rows": exp["tdm"].pop("row_index", None),
    }
    div = settings.diversity
    utility = {k: v for k, v in cheap["utility"].items() if k != "qa_f1_per_bucket"}
    details = {
        "n": int(idx.size),
        "eligible_buckets": eligible,
        "small_buckets": skipped,
        "diversity": diversity_scores(
            [rows.answers[i] for i in idx],
            seed=div.seed,
            n_samples=div.n_samples,
            n_references=div.n_references,
        ),
        **cheap,
        **exp,
        "utility": utility,
    }
    details["headline"] = headline_values(cheap, exp)
    return details, kept


def _per_bucket(rows: EvalRows, scopes: dict[str, dict]) -> dict[str, dict]:
    """One entry per test bucket; distributional values come from the bucket's language scope."""
    missing = no_answer_mask(rows.generations)
    out = {}
    for bucket in sorted(set(rows.buckets.tolist())):
        sel = np.flatnonzero(rows.buckets == bucket)
        lang = str(rows.languages[sel[0]])
        d = scopes[lang]
        point = d["nuf"]["points"].get(bucket)
        out[bucket] = {
            "language": lang,
            "track": str(rows.tracks[sel[0]]),
            "n": int(sel.size),
            "no_answer": int(missing[sel].sum()),
            "eligible": bucket in d["eligible_buckets"],
            **{name: float(values[sel].mean()) for name, values in rows.utility.items()},
            "language_fidelity": float(rows.in_language[sel].mean()),
            "bng": d["bng"]["per_bucket"].get(bucket),
            "bng_robust": d["bng_robust"]["per_bucket"].get(bucket),
            "hcr": d["hcr"]["per_bucket"].get(bucket),
            "c_mauve": d["c_mauve"]["per_bucket"].get(bucket),
            "tdm": d["tdm"]["per_bucket"].get(bucket),
            "nuf_point": point,
            "on_frontier": bucket in d["nuf"]["frontier"],
        }
    return out


def _per_corpus(rows: EvalRows) -> dict[str, dict]:
    out = {}
    for corpus in sorted(set(rows.datasets.tolist())):
        sel = np.flatnonzero(rows.datasets == corpus)
        out[corpus] = {
            "n": int(sel.size),
            "languages": sorted(set(rows.languages[sel].tolist())),
            **{name: float(v[sel].mean()) for name, v in rows.utility.items()},
        }
    return out


def _generation_stats(gens: list[dict]) -> dict:
    stats = {
        "n": len(gens),
        "finish_reasons": dict(Counter(str(g.get("finish_reason")) for g in gens)),
        "empty_answers": sum(1 for g in gens if not g["answer"].strip()),
    }
    tokens = [g["output_tokens"] for g in gens if isinstance(g.get("output_tokens"), (int, float))]
    if tokens:
        stats["mean_output_tokens"] = float(np.mean(tokens))
    found = [bool(g["answer_found"]) for g in gens if "answer_found" in g]
    if found:
        stats["answer_found_rate"] = float(np.mean(found))
    return stats


def _resample_arrays(
    rows: EvalRows, scopes: dict[str, np.ndarray], kept: dict[str, dict], settings: EvaluationSettings
) -> ResampleArrays:
    bucket_labels = {}
    for k in kept.values():
        bucket_labels.update(
            {
                b: {key: lab[key] for key in ("human", "generated", "num_clusters")}
                for b, lab in k["quantization"]["buckets"].items()
            }
        )
    tdm = {scope: {"rows": k["tdm_rows"], **k["tdm"]} for scope, k in kept.items() if k["tdm"] is not None}
    return ResampleArrays(
        ids=rows.ids,
        languages=rows.languages,
        buckets=rows.buckets,
        scores={
            **{k: rows.utility[k] for k in ("em", "qa_f1", "rouge_l")},
            "language_fidelity": rows.in_language,
        },
        human_X=rows.human_X,
        gen_X=rows.gen_X,
        human_valid=rows.human_valid,
        gen_valid=rows.gen_valid,
        covered=rows.covered,
        human_E_ok=rows.human_E_ok,
        gen_E_ok=rows.gen_E_ok,
        eligible={s: k["eligible"] for s, k in kept.items()},
        scope_rows=scopes,
        global_labels={
            s: k["quantization"]["global"] for s, k in kept.items() if k["quantization"]["global"] is not None
        },
        bucket_labels=bucket_labels,
        tdm=tdm,
        mauve_scaling_factor=settings.mauve.mauve_scaling_factor,
        mauve_discretization=settings.mauve.divergence_curve_discretization_size,
    )


def evaluate_system(
    test_records: list[dict],
    generations: list[dict],
    human_feats,
    gen_feats,
    references: dict,
    human_emb,
    gen_emb,
    settings: EvaluationSettings | None = None,
    system: str = "system",
    seed=None,
) -> tuple[dict, ResampleArrays]:
    """All metrics of one system (one training seed) on the full test split (docs/evaluation.md).

    human_feats / gen_feats: polyalign.features.store.FeatureTable (or a mapping with ids,
    names, X and optionally valid, samples); references: the
    polyalign.references.v2 artifact (train references); human_emb / gen_emb: EmbeddingTable or
    mapping with ids, E (both None: MAUVE and everything built on it is NaN, with a note).
    Returns (the metrics document, the arrays of its bootstrap).
    """
    settings = settings if settings is not None else EvaluationSettings()
    rows = build_eval_rows(
        test_records, generations, human_feats, gen_feats, references, human_emb, gen_emb, settings, system
    )
    scopes, kept, bucket_cache = {}, {}, {}
    scope_rows = _scopes(rows)
    for label, idx in scope_rows.items():
        log.info("%s (seed %s): scope %s, %d prompts", system, seed, label, idx.size)
        scopes[label], kept[label] = _scope_details(rows, idx, settings, bucket_cache)
    result = {
        "format": METRICS_FORMAT,
        "system": system,
        "seed": seed,
        "n_prompts": len(rows.ids),
        "languages": {k: v["n"] for k, v in scopes.items() if k != OVERALL},
        "settings": {k: v for k, v in settings.to_dict().items() if k != "bootstrap"},
        "zh_tokenization": settings.zh_tokenization,
        "fingerprint": rows.fingerprint,
        "headline": {label: d.pop("headline") for label, d in scopes.items()},
        "scopes": scopes,
        "per_bucket": _per_bucket(rows, scopes),
        "per_corpus": _per_corpus(rows),
        "no_answer": _no_answer_counts(rows, scope_rows),
        "generation_stats": _generation_stats(rows.generations),
    }
    return result, _resample_arrays(rows, scope_rows, kept, settings)
