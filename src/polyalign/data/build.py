"""Corpus build: load every configured corpus, validate, normalize, split and dedup."""
from __future__ import annotations

from collections import Counter

from ..io import InputError
from ..records import CORPUS_SCRIPTS, normalize_raw, script_mismatch, validate_raw
from ..text import foreign_letters
from .registry import get_corpus
from .splits import dedup, hash_split


def _skip_summary(skipped: dict) -> dict:
    out = {}
    for reason, value in skipped.items():
        if isinstance(value, (list, tuple)):
            out[reason] = {"count": len(value), "examples": list(value)[:10]}
        else:
            out[reason] = {"count": int(value)}
    return out


def load_records(key: str, source: dict, seed: int) -> tuple[list[dict], dict]:
    """Load one corpus into normalized records with `split` and `id`; returns (records, log)."""
    spec = get_corpus(key)
    source = dict(source)  # loaders record their skips in source["_skipped"]
    weights = source.get("split_weights", spec.split_weights)
    known_bad = source.get("known_bad_rows", [])
    records, ids, script_skips = [], set(), []
    for raw in spec.load(source):
        where = raw.get("where") or f"{key}: row {len(records)}"
        validate_raw(raw, where)
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
                raise InputError(f"{where}: row has no official split and corpus '{key}' has no split_weights")
            else:
                rec["split"] = hash_split(rec["split_key"], seed, weights)
            rec["id"] = f"{key}:{rec['meta']['source_id']}"
            if rec["id"] in ids:
                raise InputError(f"{where}: duplicate record id {rec['id']!r} (meta.source_id must be unique)")
            ids.add(rec["id"])
            records.append(rec)
    skipped = dict(source.get("_skipped", {}))
    if script_skips:
        skipped["script_mismatch_known_bad"] = script_skips
    if not records:
        raise InputError(f"corpus '{key}' at {source.get('path')!r} produced no records")
    log = {
        "records": len(records),
        "per_split": dict(Counter(r["split"] for r in records)),
        "skipped": _skip_summary(skipped),
    }
    return records, log


def build_corpus(corpora: dict, seed: int) -> tuple[list[dict], dict, dict]:
    """All corpora -> (deduplicated records, dedup report, build log)."""
    records, per_corpus = [], {}
    for key, source in corpora.items():
        recs, log = load_records(key, source, seed)
        records.extend(recs)
        per_corpus[key] = log
    kept, report = dedup(records)
    report["per_corpus_kept"] = {
        key: dict(Counter(r["split"] for r in kept if r["dataset"] == key)) for key in corpora
    }
    # no timings here: results/corpus is a DVC-tracked output and must be byte-reproducible
    build_log = {"seed": seed, "corpora": per_corpus}
    return kept, report, build_log
