"""Corpus build: load every configured corpus, validate, normalize, split and dedup.

Bad rows (schema violations, text in the wrong script for its language) stop the build, naming
the row, unless the row is listed in the corpus' `known_bad_rows` (skipped and counted) or a
`max_drop_rate` is set (paper scale): then every bad row is dropped, counted per corpus and
reason, and listed in the drop report, and a corpus whose dropped share of rows exceeds the rate
fails the build with the counts. Rows the loaders skip on their own (empty answers, ...) are
reported separately and do not count toward the rate.
"""

from __future__ import annotations

from collections import Counter

from ..config import block_defaults
from ..io import InputError
from ..records import CORPUS_SCRIPTS, normalize_raw, script_mismatch, validate_raw
from ..text import foreign_letters
from .loaders import get_corpus
from .splits import dedup, hash_split

# Keyword default: the config schema's (the one place it is written).
_MAX_FIELD_CHARS = block_defaults("corpus_build")["max_field_chars"]


def _skip_summary(skipped: dict) -> dict:
    out = {}
    for reason, value in skipped.items():
        if isinstance(value, (list, tuple)):
            out[reason] = {"count": len(value), "examples": list(value)[:10]}
        else:
            out[reason] = {"count": int(value)}
    return out


def _bad_row_reason(raw: dict, where: str, max_field_chars: int) -> tuple[str, str] | None:
    """(reason, detail) when the row is malformed or in the wrong script; None when it is fine."""
    try:
        validate_raw(raw, where, max_field_chars)
    except InputError as e:
        return "malformed", str(e)
    rec = normalize_raw(raw)
    for field in ("human_answer", "question"):
        if rec[field] and script_mismatch(rec[field], rec["language"]):
            return (
                "mixed_script",
                f"{where}: field '{field}' is not in {rec['language']!r}: {rec[field][:60]!r}",
            )
    return None


def load_records(
    key: str,
    source: dict,
    seed: int,
    max_drop_rate: float | None = None,
    max_field_chars: int = _MAX_FIELD_CHARS,
) -> tuple[list[dict], dict]:
    """Load one corpus into normalized records with `split` and `id`; returns (records, log).
    With `max_drop_rate`, bad rows are dropped (log["dropped"]) instead of stopping the build.
    A text field longer than `max_field_chars` characters makes its row malformed."""
    spec = get_corpus(key)
    source = dict(source)  # loaders record their skips in source["_skipped"]
    weights = source.get("split_weights", spec.split_weights)
    known_bad = source.get("known_bad_rows", [])
    records, ids, script_skips, dropped, seen = [], set(), [], [], 0
    for raw in spec.load(source):
        seen += 1
        where = raw.get("where") or f"{key}: row {len(records)}"
        if max_drop_rate is not None:
            bad = _bad_row_reason(raw, where, max_field_chars)
            if bad is not None and not any(where.endswith(row) for row in known_bad):
                dropped.append({"where": where, "reason": bad[0], "detail": bad[1]})
                continue
        validate_raw(raw, where, max_field_chars)
        rec = normalize_raw(raw)
        if rec["dataset"] != key:
            raise InputError(f"{where}: field 'dataset' is {rec['dataset']!r}, expected {key!r}")
        for field in ("human_answer", "question"):
            if rec[field] and script_mismatch(rec[field], rec["language"]):
                if any(where.endswith(row) for row in known_bad):
                    script_skips.append(where)
                    break
                foreign = foreign_letters(rec[field], CORPUS_SCRIPTS)
                raise InputError(
                    f"{where}: field '{field}' is not in the declared language {rec['language']!r} "
                    f"(mixed scripts{': letters ' + repr(foreign[:10]) + ' of neither language' if foreign else ''})"
                    f": {rec[field][:60]!r}"
                )
        else:
            if rec["source_split"] is not None:
                rec["split"] = rec["source_split"]
            elif weights is None:
                raise InputError(
                    f"{where}: row has no official split and corpus '{key}' has no split_weights"
                )
            else:
                rec["split"] = hash_split(rec["split_key"], seed, weights)
            rec["id"] = f"{key}:{rec['meta']['source_id']}"
            if rec["id"] in ids:
                raise InputError(
                    f"{where}: duplicate record id {rec['id']!r} (meta.source_id must be unique)"
                )
            ids.add(rec["id"])
            records.append(rec)
    skipped = dict(source.get("_skipped", {}))
    if script_skips:
        skipped["script_mismatch_known_bad"] = script_skips
    if not records:
        raise InputError(f"corpus '{key}' at {source.get('path')!r} produced no records")
    if max_drop_rate is not None:
        rate = len(dropped) / max(seen, 1)
        if rate > max_drop_rate:
            counts = dict(Counter(d["reason"] for d in dropped))
            raise InputError(
                f"corpus '{key}': {len(dropped)} of {seen} rows dropped ({rate:.1%}, by reason "
                f"{counts}) exceeds corpus_build.max_drop_rate={max_drop_rate:.1%}; first: "
                f"{dropped[0]['detail']}"
            )
    log = {
        "records": len(records),
        "rows_seen": seen,
        "dropped": {
            "count": len(dropped),
            "rate": len(dropped) / max(seen, 1),
            "by_reason": dict(sorted(Counter(d["reason"] for d in dropped).items())),
            "rows": dropped,
        },
        "per_split": dict(Counter(r["split"] for r in records)),
        "skipped": _skip_summary(skipped),
    }
    return records, log


def build_corpus(
    corpora: dict, seed: int, max_drop_rate: float | None = None, max_field_chars: int = _MAX_FIELD_CHARS
) -> tuple[list[dict], dict, dict]:
    """All corpora -> (deduplicated records, dedup report, build log)."""
    records, per_corpus = [], {}
    for key, source in corpora.items():
        recs, log = load_records(key, source, seed, max_drop_rate, max_field_chars)
        records.extend(recs)
        per_corpus[key] = log
    kept, report = dedup(records)
    report["per_corpus_kept"] = {
        key: dict(Counter(r["split"] for r in kept if r["dataset"] == key)) for key in corpora
    }
    # no timings here: results/corpus is a DVC-tracked output and must be byte-reproducible
    build_log = {"seed": seed, "max_drop_rate": max_drop_rate, "corpora": per_corpus}
    return kept, report, build_log


def drop_report(build_log: dict) -> dict:
    """Per corpus: rows seen, rows dropped by reason (with each row's location and cause)."""
    return {
        "max_drop_rate": build_log["max_drop_rate"],
        "corpora": {
            key: {"rows_seen": log["rows_seen"], **log["dropped"]}
            for key, log in build_log["corpora"].items()
        },
        "total_dropped": sum(log["dropped"]["count"] for log in build_log["corpora"].values()),
    }
