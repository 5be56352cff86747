"""Combining the per-system metrics files into results/metrics/summary.json and a long TSV.

Systems are only comparable when they were evaluated on the same prompts with the same settings:
a different test fingerprint or settings block is an error, not a footnote.
"""
from __future__ import annotations

from polyalign.io import InputError

from .scope_metrics import HEADLINE_METRICS
from .store import number

SUMMARY_FORMAT = "polyalign.summary.v1"
TSV_COLUMNS = ("system", "scope", "metric", "point", "low", "high", "n_resamples", "n_finite")


def combine_metrics(metrics: dict[str, dict]) -> dict:
    """{system: metrics dict} (in display order) -> the summary document."""
    if not metrics:
        raise InputError("combine_metrics: no systems given")
    first_name, first = next(iter(metrics.items()))
    for name, m in metrics.items():
        if m["system"] != name:
            raise InputError(f"metrics file of {name!r} says system {m['system']!r}")
        if m["bootstrap"]["fingerprint"] != first["bootstrap"]["fingerprint"]:
            raise InputError(f"{name!r} was evaluated on other test prompts than {first_name!r} "
                             "(test fingerprints differ)")
        if m["settings"] != first["settings"]:
            raise InputError(f"{name!r} was evaluated with other settings than {first_name!r}")
    return {
        "format": SUMMARY_FORMAT,
        "systems": list(metrics),
        "fingerprint": first["bootstrap"]["fingerprint"],
        "n_prompts": first["n_prompts"], "languages": first["languages"],
        "settings": first["settings"],
        "headline": {name: m["headline"] for name, m in metrics.items()},
        "per_bucket": {name: m["per_bucket"] for name, m in metrics.items()},
        "per_corpus": {name: m["per_corpus"] for name, m in metrics.items()},
        "diversity": {name: {scope: d["diversity"] for scope, d in m["scopes"].items()}
                      for name, m in metrics.items()},
        "generation_stats": {name: m["generation_stats"] for name, m in metrics.items()},
    }


def _cell(value) -> str:
    x = number(value)
    return "" if x != x else f"{x:.6g}"


def summary_tsv(summary: dict) -> str:
    """One line per (system, scope, headline metric) with the point and its interval."""
    lines = ["\t".join(TSV_COLUMNS)]
    for system in summary["systems"]:
        for scope, metrics in summary["headline"][system].items():
            for metric in HEADLINE_METRICS:
                ci = metrics[metric]
                lines.append("\t".join([system, scope, metric, _cell(ci["point"]),
                                        _cell(ci["low"]), _cell(ci["high"]),
                                        str(ci["n_resamples"]), str(ci["n_finite"])]))
    return "\n".join(lines) + "\n"
