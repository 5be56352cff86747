"""Writing and reading the evaluation's JSON files.

`results/metrics/seed{seed}/{system}.json` holds every number of one system and seed with its
details (NaN written as null); `results/metrics/summary.json` the pooled results.
"""

from __future__ import annotations

import math

import numpy as np

from polyalign.io import InputError, read_json, write_json

METRICS_FORMAT = "polyalign.metrics.v2"


def to_jsonable(obj):
    """Plain JSON types; numpy scalars/arrays converted, non-finite floats -> None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(float(obj)) else None
    return obj


def number(value) -> float:
    """A stored number back as float (null -> NaN)."""
    return float("nan") if value is None else float(value)


def write_metrics(path, result: dict) -> None:
    """Write one system's (one seed's) metrics JSON atomically."""
    write_json(path, to_jsonable(result))


def load_metrics(path) -> dict:
    doc = read_json(path)
    if not isinstance(doc, dict) or doc.get("format") != METRICS_FORMAT:
        raise InputError(f"{path}: not a metrics file (expected format {METRICS_FORMAT!r})")
    return doc


SUMMARY_FORMAT = "polyalign.summary.v2"
TSV_COLUMNS = ("system", "scope", "metric", "point", "low", "high", "n_resamples", "n_finite")


def seed_mean(values: list):
    """Mean over seeds of a tree of per-seed results: numbers -> mean of the finite ones (None
    when none is), lists -> element-wise, dicts -> per key present in every seed, anything else
    must agree across seeds (else None)."""
    first = values[0]
    if isinstance(first, bool) or first is None:
        return first if all(v == first for v in values) else None
    if isinstance(first, (int, float)):
        finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
        return float(np.mean(finite)) if finite else None
    if isinstance(first, dict):
        keys = [k for k in first if all(isinstance(v, dict) and k in v for v in values)]
        return {k: seed_mean([v[k] for v in values]) for k in keys}
    if isinstance(first, list):
        if all(isinstance(v, list) and len(v) == len(first) for v in values):
            return [seed_mean([v[i] for v in values]) for i in range(len(first))]
        return None
    return first if all(v == first for v in values) else None


def _frontier_flags(per_bucket: dict) -> dict:
    """on_frontier of the seed-mean NUF points, per language."""
    from polyalign.metrics.frontier import pareto_frontier

    out = dict(per_bucket)
    for lang in sorted({d["language"] for d in per_bucket.values()}):
        points = {
            b: tuple(d["nuf_point"])
            for b, d in per_bucket.items()
            if d["language"] == lang and isinstance(d.get("nuf_point"), list) and None not in d["nuf_point"]
        }
        front = set(pareto_frontier(points))
        for b, d in per_bucket.items():
            if d["language"] == lang:
                out[b] = {**d, "on_frontier": b in front}
    return out


def pooled_summary(metrics: dict[str, dict[str, dict]], headline: dict, bootstrap: dict) -> dict:
    """The summary document from {system: {seed: metrics document}} and the pooled intervals."""
    if not metrics:
        raise InputError("pooled_summary: no systems given")
    docs = [(system, seed, m) for system, by_seed in metrics.items() for seed, m in by_seed.items()]
    _, _, first = docs[0]
    for system, seed, m in docs:
        if m["system"] != system or str(m["seed"]) != str(seed):
            raise InputError(
                f"metrics file of {system!r} seed {seed} says system {m['system']!r} seed {m['seed']!r}"
            )
        if m["fingerprint"] != first["fingerprint"]:
            raise InputError(
                f"{system!r} seed {seed} was evaluated on other test prompts (test fingerprints differ)"
            )
        if m["settings"] != first["settings"]:
            raise InputError(f"{system!r} seed {seed} was evaluated with other settings")

    def mean_of(key):
        return {system: seed_mean([m[key] for m in by_seed.values()]) for system, by_seed in metrics.items()}

    return {
        "format": SUMMARY_FORMAT,
        "systems": list(metrics),
        "seeds": [str(s) for s in next(iter(metrics.values()))],
        "fingerprint": first["fingerprint"],
        "n_prompts": first["n_prompts"],
        "languages": first["languages"],
        "settings": first["settings"],
        "bootstrap": bootstrap,
        "headline": headline,
        "per_bucket": {s: _frontier_flags(v) for s, v in mean_of("per_bucket").items()},
        "per_corpus": mean_of("per_corpus"),
        "diversity": {
            system: seed_mean(
                [{scope: d["diversity"] for scope, d in m["scopes"].items()} for m in by_seed.values()]
            )
            for system, by_seed in metrics.items()
        },
        "no_answer": {system: _summed_no_answer(by_seed) for system, by_seed in metrics.items()},
        "generation_stats": {
            system: {
                "mean": seed_mean([m["generation_stats"] for m in by_seed.values()]),
                "seeds": {str(k): m["generation_stats"] for k, m in by_seed.items()},
            }
            for system, by_seed in metrics.items()
        },
    }


def _summed_no_answer(by_seed: dict) -> dict:
    """{scope: {k, n}} summed over seeds: answers missing of all answers given (prompts x seeds).
    A metrics file written before the count existed is an error, not zero."""
    out: dict = {}
    for seed, m in by_seed.items():
        if "no_answer" not in m:
            raise InputError(
                f"metrics of {m.get('system')!r} seed {seed} have no 'no_answer' counts (rerun evaluate_system)"
            )
        for scope, c in m["no_answer"].items():
            acc = out.setdefault(scope, {"k": 0, "n": 0})
            acc["k"] += int(c["k"])
            acc["n"] += int(c["n"])
    return out


def _cell(value) -> str:
    x = number(value)
    return "" if x != x else f"{x:.6g}"


def summary_tsv(summary: dict, metrics: tuple[str, ...]) -> str:
    """One line per (system, scope, headline metric) with the point and its interval."""
    lines = ["\t".join(TSV_COLUMNS)]
    for system in summary["systems"]:
        for scope, by_metric in summary["headline"][system].items():
            for metric in metrics:
                ci = by_metric[metric]
                lines.append(
                    "\t".join(
                        [
                            system,
                            scope,
                            metric,
                            _cell(ci["point"]),
                            _cell(ci["low"]),
                            _cell(ci["high"]),
                            str(ci["n_resamples"]),
                            str(ci["n_finite"]),
                        ]
                    )
                )
    return "\n".join(lines) + "\n"


def compact_headline(summary: dict) -> dict:
    """{system: {scope: {metric: {point, low, high}}}}: small enough for `dvc metrics show`."""
    return {
        system: {
            scope: {
                metric: {k: ci.get(k) for k in ("point", "low", "high")} for metric, ci in by_metric.items()
            }
            for scope, by_metric in scopes.items()
        }
        for system, scopes in summary["headline"].items()
    }
