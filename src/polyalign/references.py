"""Human reference distributions per bucket and the support distance D_b (docs/method.md §3).

References are built from the **train** split only (the caller passes train rows). Quantiles
use the nearest-rank rule sorted[round((n-1)p)] with Python's round(), i.e. round half to even:
for n = 6, q90 = sorted[round(4.5)] = sorted[4], not sorted[5].

The scale of feature f in bucket b is s_f = max(q90_f − q10_f, std_f, g_f), where g_f is the
q90 − q10 band of f over every train answer of the bucket's language (`language_scales`, small
buckets included). Inside a small bucket many features have zero spread; a floor such as 1e-6
would turn one stray mark into a distance of ~1e6, while g_f keeps D_b on the scale of the
human variation of the language. Features with g_f = 0 (constant across the language, e.g. a
count that is zero in every answer) carry no scale and are left out of D_b.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .features.spec import FeatureError, spec_by_name
from .io import InputError, read_json, write_json, write_text

FORMAT = "polyalign.references.v2"  # v2: language_scales
QUANTILES = {"q10": 0.1, "q25": 0.25, "q50": 0.5, "q75": 0.75, "q90": 0.9}
QUANTILE_RULE = "sorted[round((n-1)*p)], Python round (half to even)"


class MissingReferenceError(LookupError):
    """Rows whose bucket has no reference (unknown, or skipped for being too small)."""


def quantile_index(n: int, p: float) -> int:
    """Index into the sorted sample of size n: Python round((n-1)*p), half to even."""
    return int(round((n - 1) * p))


def _resolve_scopes(names: Sequence[str], scopes: Sequence[str] | None) -> list[tuple[str, str]]:
    """(group, scope) per column: from the feature registry, or 'custom' with given scopes."""
    if scopes is None:
        try:
            return [(spec_by_name(n).group, spec_by_name(n).scope) for n in names]
        except FeatureError as e:
            raise InputError(f"{e}; pass `scopes` for features outside the registry") from None
    if len(scopes) != len(names):
        raise InputError(f"{len(names)} feature names but {len(scopes)} scopes")
    return [("custom", s) for s in scopes]


def _in_scope(scope: str, languages: set[str]) -> bool:
    # A bucket mixing languages (a bucket key without language) keeps only language-free features.
    return scope == "all" or languages == {scope}


def _column_stats(values: np.ndarray) -> dict:
    """Stats of one finite column; numbers converted to Python floats for JSON."""
    ordered = np.sort(values)
    n = len(ordered)
    stats = {
        "count": int(n),
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(ordered[0]),
        "max": float(ordered[-1]),
    }
    for key, p in QUANTILES.items():
        stats[key] = float(ordered[quantile_index(n, p)])
    stats["support_q10_q90"] = [stats["q10"], stats["q90"]]
    stats["support_q25_q75"] = [stats["q25"], stats["q75"]]
    return stats


def language_key(languages) -> str:
    """The key of a bucket's language set in `language_scales` ("en", or "en+zh" for a bucket
    key without language)."""
    return "+".join(sorted(languages))


def language_scales(
    features: np.ndarray,
    languages: Sequence[str],
    column_info: list[tuple[str, str]],
    names: Sequence[str],
    language_sets: set[tuple[str, ...]],
) -> dict:
    """g_f = q90 − q10 (nearest rank) of every in-scope feature over all rows whose language is
    in the set, for each language set of a bucket. Non-finite in-scope values are skipped here
    (build_references reports them for the buckets that get a reference)."""
    lang_arr = np.asarray(languages, dtype=object)
    out = {}
    for langs in sorted(language_sets):
        rows = np.nonzero(np.isin(lang_arr, list(langs)))[0]
        scales = {}
        for j, (_, scope) in enumerate(column_info):
            if not _in_scope(scope, set(langs)):
                continue
            col = np.sort(features[rows, j][np.isfinite(features[rows, j])])
            if len(col):
                scales[names[j]] = float(
                    col[quantile_index(len(col), 0.9)] - col[quantile_index(len(col), 0.1)]
                )
        out[language_key(langs)] = scales
    return out


def build_references(
    features: np.ndarray,
    bucket_ids: Sequence[str],
    languages: Sequence[str],
    names: Sequence[str],
    min_bucket_size: int,
    scopes: Sequence[str] | None = None,
    ids: Sequence[str] | None = None,
) -> dict:
    """Per-bucket reference of the in-scope features of human (train) responses.

    features: float [n, F] with columns `names` (NaN out of scope). In-scope values must be
    finite; a NaN there raises InputError naming the row. Buckets with fewer than
    `min_bucket_size` rows get no reference and are listed under "skipped" with their counts.
    """
    features = np.asarray(features, dtype=np.float64)
    n = len(bucket_ids)
    if features.ndim != 2 or features.shape != (n, len(names)):
        raise InputError(f"features shape {features.shape} does not match {n} rows x {len(names)} names")
    if len(languages) != n:
        raise InputError(f"{n} bucket ids but {len(languages)} languages")
    if min_bucket_size < 1:
        raise InputError("min_bucket_size must be >= 1")
    column_info = _resolve_scopes(names, scopes)
    bucket_arr = np.asarray(bucket_ids, dtype=object)
    buckets, skipped = {}, {}
    for bucket in sorted(set(bucket_ids)):
        rows = np.nonzero(bucket_arr == bucket)[0]
        if len(rows) < min_bucket_size:
            skipped[bucket] = int(len(rows))
            continue
        langs = {languages[i] for i in rows}
        cols = [j for j, (_, scope) in enumerate(column_info) if _in_scope(scope, langs)]
        block = features[np.ix_(rows, cols)]
        bad = ~np.isfinite(block)
        if bad.any():
            r, c = map(int, np.argwhere(bad)[0])
            who = f"row {rows[r]}" + (f" (id {ids[rows[r]]!r})" if ids is not None else "")
            raise InputError(
                f"{who}, bucket {bucket!r}: in-scope feature {names[cols[c]]!r} is "
                f"{block[r, c]} ({int(bad.sum())} non-finite values in the bucket)"
            )
        buckets[bucket] = {
            "count": int(len(rows)),
            "languages": sorted(langs),
            "features": {names[j]: _column_stats(block[:, k]) for k, j in enumerate(cols)},
        }
    sets = {tuple(sorted(ref["languages"])) for ref in buckets.values()}
    return {
        "format": FORMAT,
        "quantile_rule": QUANTILE_RULE,
        "min_bucket_size": int(min_bucket_size),
        "n_rows": int(n),
        "scale_rule": "s_f = max(q90 - q10, std, g_f); g_f = q90 - q10 over all train rows of the language; "
        "features with g_f = 0 are left out of D_b",
        "language_scales": language_scales(features, languages, column_info, names, sets),
        "features": [{"name": name, "group": g, "scope": s} for name, (g, s) in zip(names, column_info)],
        "buckets": buckets,
        "skipped": skipped,
    }


def write_references(path, references: dict) -> None:
    write_json(path, references)


def load_references(path) -> dict:
    refs = read_json(path)
    if not isinstance(refs, dict) or refs.get("format") != FORMAT:
        raise InputError(f"{path}: not a references artifact (expected format {FORMAT!r})")
    for key in ("buckets", "skipped", "features", "language_scales"):
        if key not in refs:
            raise InputError(f"{path}: missing field {key!r}")
    return refs


def reference_coverage(bucket_ids: Sequence[str], references: dict) -> dict:
    """Row counts per bucket, split into known (has a reference), skipped and unknown."""
    out = {"known": {}, "skipped": {}, "unknown": {}}
    for b in bucket_ids:
        kind = (
            "known" if b in references["buckets"] else "skipped" if b in references["skipped"] else "unknown"
        )
        out[kind][b] = out[kind].get(b, 0) + 1
    return out


def _missing_message(coverage: dict, references: dict) -> str:
    parts = [
        f"{b!r}: {k} row(s), bucket skipped (only {references['skipped'][b]} train rows "
        f"< min_bucket_size {references.get('min_bucket_size')})"
        for b, k in sorted(coverage["skipped"].items())
    ]
    parts += [
        f"{b!r}: {k} row(s), bucket unknown to the references" for b, k in sorted(coverage["unknown"].items())
    ]
    return "no reference for " + "; ".join(parts)


def feature_distances(
    features: np.ndarray,
    bucket_ids: Sequence[str],
    references: dict,
    names: Sequence[str],
    on_missing: str = "raise",
) -> np.ndarray:
    """d_f = max(0, q10 - φ, φ - q90) / max(q90 - q10, std, g_f), float64 [n, F], with g_f the
    language-level band (`language_scales`).

    NaN where the feature is not part of the row's bucket reference, or constant in the language
    (g_f = 0). Rows whose bucket has no
    reference: on_missing="raise" raises MissingReferenceError listing them; "nan" gives
    all-NaN rows (use `reference_coverage` to report them). Never 0.
    """
    if on_missing not in ("raise", "nan"):
        raise ValueError("on_missing must be 'raise' or 'nan'")
    features = np.asarray(features, dtype=np.float64)
    n = len(bucket_ids)
    if features.ndim != 2 or features.shape != (n, len(names)):
        raise InputError(f"features shape {features.shape} does not match {n} rows x {len(names)} names")
    coverage = reference_coverage(bucket_ids, references)
    if on_missing == "raise" and (coverage["skipped"] or coverage["unknown"]):
        raise MissingReferenceError(_missing_message(coverage, references))
    column = {name: j for j, name in enumerate(names)}
    out = np.full(features.shape, np.nan)
    unique, inverse = np.unique(np.asarray(bucket_ids, dtype=object), return_inverse=True)
    for k, bucket in enumerate(unique):
        ref = references["buckets"].get(bucket)
        if ref is None:
            continue
        missing = [f for f in ref["features"] if f not in column]
        if missing:
            raise InputError(
                f"bucket {bucket!r}: feature(s) {missing[:5]} of the reference are "
                "not among the given columns"
            )
        lang_scales = references["language_scales"].get(language_key(ref["languages"]))
        if lang_scales is None:
            raise InputError(f"bucket {bucket!r}: no language scale for {ref['languages']} in the references")
        absent = [f for f in ref["features"] if f not in lang_scales]
        if absent:
            raise InputError(f"bucket {bucket!r}: feature(s) {absent[:5]} have no language scale")
        used = [f for f in ref["features"] if lang_scales[f] > 0]
        if not used:
            continue
        cols = np.array([column[f] for f in used])
        stats = [ref["features"][f] for f in used]
        lo = np.array([s["q10"] for s in stats])
        hi = np.array([s["q90"] for s in stats])
        g = np.array([lang_scales[f] for f in used])
        scale = np.maximum(np.maximum(hi - lo, np.array([s["std"] for s in stats])), g)
        rows = np.nonzero(inverse == k)[0]
        block = features[np.ix_(rows, cols)]
        if not np.isfinite(block).all():
            r, c = map(int, np.argwhere(~np.isfinite(block))[0])
            raise InputError(
                f"row {rows[r]} (bucket {bucket!r}): in-scope feature {names[cols[c]]!r} is {block[r, c]}"
            )
        out[np.ix_(rows, cols)] = np.maximum(np.maximum(lo - block, block - hi), 0.0) / scale
    return out


def support_distance(
    features: np.ndarray,
    bucket_ids: Sequence[str],
    references: dict,
    names: Sequence[str],
    on_missing: str = "raise",
) -> np.ndarray:
    """D_b(φ) = mean over the bucket's reference features (those with g_f > 0) of d_f; float64
    [n]. 0 iff every such feature lies in [q10, q90]. Rows without a reference: see
    `feature_distances`."""
    d = feature_distances(features, bucket_ids, references, names, on_missing)
    present = ~np.isnan(d)
    counts = present.sum(axis=1)
    total = np.where(present, d, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / counts, np.nan)


_SUMMARY_STATS = ("mean", "std", "min", "q10", "q25", "q50", "q75", "q90", "max")


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def reference_summary_tsv(references: dict) -> str:
    """One line per (bucket, feature): counts and every statistic."""
    groups = {f["name"]: (f["group"], f["scope"]) for f in references["features"]}
    lines = ["\t".join(("bucket", "n", "feature", "group", "scope") + _SUMMARY_STATS)]
    for bucket, ref in references["buckets"].items():
        for name, st in ref["features"].items():
            group, scope = groups.get(name, ("custom", "all"))
            lines.append(
                "\t".join(
                    [bucket, str(ref["count"]), name, group, scope] + [_fmt(st[k]) for k in _SUMMARY_STATS]
                )
            )
    return "\n".join(lines) + "\n"


def reference_summary_markdown(references: dict) -> str:
    """An overview of buckets and skipped buckets, then one table per bucket."""
    out = [
        "# Human reference distributions",
        "",
        f"Built from {references['n_rows']} train rows; min_bucket_size "
        f"{references['min_bucket_size']}; quantile rule: {references['quantile_rule']}.",
        "",
        "| bucket | n | languages | features |",
        "|---|---:|---|---:|",
    ]
    for bucket, ref in references["buckets"].items():
        out.append(f"| {bucket} | {ref['count']} | {', '.join(ref['languages'])} | {len(ref['features'])} |")
    out += [
        "",
        f"Skipped buckets (fewer than {references['min_bucket_size']} rows): "
        + (", ".join(f"{b} ({k})" for b, k in references["skipped"].items()) or "none"),
        "",
    ]
    for bucket, ref in references["buckets"].items():
        out += [
            f"## {bucket} (n = {ref['count']})",
            "",
            "| feature | " + " | ".join(_SUMMARY_STATS) + " |",
            "|---|" + "---:|" * len(_SUMMARY_STATS),
        ]
        for name, st in ref["features"].items():
            out.append(f"| {name} | " + " | ".join(_fmt(st[k]) for k in _SUMMARY_STATS) + " |")
        out.append("")
    return "\n".join(out)


def write_reference_summary(references: dict, markdown_path=None, tsv_path=None) -> None:
    """Write the Markdown and/or TSV summary atomically."""
    if markdown_path is not None:
        write_text(markdown_path, reference_summary_markdown(references))
    if tsv_path is not None:
        write_text(tsv_path, reference_summary_tsv(references))
