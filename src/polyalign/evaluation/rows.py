"""The inputs of one system's evaluation, aligned to the test prompts (`EvalRows`).

Every system is evaluated on the same full test split: a test id without a generation (or
without a feature / embedding row) is an error, and so is an id that is not in the test split.
Prompts are put in the canonical order of their ids, so the bootstrap draws of two systems (and
of two seeds) index the same prompts (paired resampling).

Invalid rows: a response whose features could not be computed (`valid = False`, e.g. an empty
generation) is left out of the generated side of BNG / BNG-robust and counts as *not covered*
for HCR (an empty response lies in no human band); a row whose embedding is not finite is left
out of MAUVE. Utility metrics score every row (an empty answer scores 0). Counts are reported.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from polyalign.config import schema_default
from polyalign.io import InputError
from polyalign.metrics.fidelity import language_fidelity
from polyalign.metrics.utility import utility_scores

from .embeddings import EmbeddingTable, str_list
from .settings import EvaluationSettings

_LISTED = 5


@dataclass(frozen=True)
class FeatureArrays:
    """φ(y) of a response set as this stage uses it: ids [n], names [F], X [n, F] (NaN = out of
    scope), valid [n] (False: the response could not be featurised, e.g. empty), samples."""

    ids: list[str]
    names: list[str]
    X: np.ndarray
    valid: np.ndarray
    samples: np.ndarray | None = None


def _field(obj, name, default=None):
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def as_feature_arrays(obj) -> FeatureArrays:
    """From a `polyalign.features.store.FeatureTable` (or any object / mapping with ids, names,
    X and optionally valid, samples); without `valid` every row with a finite value is valid."""
    X = np.asarray(_field(obj, "X"), dtype=np.float64)
    ids, names = str_list(_field(obj, "ids")), str_list(_field(obj, "names"))
    if X.shape != (len(ids), len(names)):
        raise InputError(f"feature matrix has shape {X.shape}, expected ({len(ids)}, {len(names)})")
    valid = _field(obj, "valid")
    valid = np.isfinite(X).any(axis=1) if valid is None else np.asarray(valid, dtype=bool)
    samples = _field(obj, "samples")
    return FeatureArrays(ids, names, X, valid, None if samples is None else np.asarray(samples))


def as_embedding_table(obj) -> EmbeddingTable | None:
    if obj is None or isinstance(obj, EmbeddingTable):
        return obj
    if isinstance(obj, Mapping):
        samples = obj.get("samples")
        return EmbeddingTable(
            str_list(obj["ids"]),
            np.asarray(obj["E"], dtype=np.float64),
            None if samples is None else np.asarray(samples),
        )
    raise TypeError(f"expected an EmbeddingTable or a mapping with ids/E, got {type(obj).__name__}")


def _listed(items: Sequence[str]) -> str:
    items = sorted(items)
    more = f" (and {len(items) - _LISTED} more)" if len(items) > _LISTED else ""
    return ", ".join(map(repr, items[:_LISTED])) + more


def check_id_sets(wanted: Sequence[str], present: Sequence[str], what: str) -> None:
    """Raise InputError when `present` lacks a wanted id, has an extra one or repeats one."""
    dup = [i for i, k in Counter(present).items() if k > 1]
    if dup:
        raise InputError(f"{what}: {len(dup)} id(s) occur more than once: {_listed(dup)}")
    missing = set(wanted) - set(present)
    if missing:
        raise InputError(
            f"{what}: {len(missing)} test id(s) missing (every system is evaluated "
            f"on the same full test split): {_listed(missing)}"
        )
    extra = set(present) - set(wanted)
    if extra:
        raise InputError(f"{what}: {len(extra)} id(s) not in the test split: {_listed(extra)}")


def _sample_mask(samples: np.ndarray | None, n: int, sample_index: int, what: str) -> np.ndarray:
    if samples is None:
        if sample_index != 0:
            raise InputError(
                f"{what}: sample_index {sample_index} requested but the rows carry no sample numbers"
            )
        return np.ones(n, dtype=bool)
    return np.asarray(samples).astype(int) == sample_index


def select_generations(
    ids: Sequence[str],
    generations: Sequence[dict],
    sample_index: int = schema_default("evaluation", "sample_index"),
    what: str = "generations",
) -> list[dict]:
    """The generation row of every test id (in the order of `ids`) for sample `sample_index`."""
    rows = []
    for k, g in enumerate(generations):
        if "id" not in g or not isinstance(g.get("answer"), str):
            raise InputError(f"{what}: row {k} lacks an 'id' or a string 'answer'")
        if int(g.get("sample", 0)) == sample_index:
            rows.append(g)
    check_id_sets(ids, [str(g["id"]) for g in rows], what)
    by_id = {str(g["id"]): g for g in rows}
    return [by_id[i] for i in ids]


def table_rows(
    ids: Sequence[str], table_ids: Sequence[str], samples: np.ndarray | None, sample_index: int, what: str
) -> np.ndarray:
    """Row index into a feature/embedding table for every id of `ids`."""
    keep = np.flatnonzero(_sample_mask(samples, len(table_ids), sample_index, what))
    kept_ids = [table_ids[k] for k in keep]
    check_id_sets(ids, kept_ids, what)
    pos = {i: int(keep[j]) for j, i in enumerate(kept_ids)}
    return np.array([pos[i] for i in ids], dtype=int)


def prompt_fingerprint(ids: Sequence[str], languages: Sequence[str]) -> str:
    """SHA-1 of the canonical prompt order: paired bootstrap needs equal fingerprints."""
    text = "\n".join(f"{i}\t{lang}" for i, lang in zip(ids, languages))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def row_coverage(
    generated: np.ndarray,
    buckets: Sequence[str],
    references: Mapping,
    feature_names: Sequence[str],
    lower: str = "q10",
    upper: str = "q90",
) -> np.ndarray:
    """1.0 / 0.0 per row: every in-scope feature inside its bucket's band; NaN without reference.

    The features of a bucket are those of its reference with finite bounds (as in `hcr`).
    """
    column = {name: j for j, name in enumerate(feature_names)}
    out = np.full(len(buckets), np.nan)
    buckets = np.asarray(buckets)
    for bucket in np.unique(buckets):
        ref = references.get(str(bucket))
        if ref is None:
            continue
        cols, lo, hi = [], [], []
        for name, stats in ref.items():
            low, high = float(stats[lower]), float(stats[upper])
            if name in column and np.isfinite(low) and np.isfinite(high):
                cols.append(column[name])
                lo.append(low)
                hi.append(high)
        if not cols:
            continue
        rows = np.flatnonzero(buckets == bucket)
        values = generated[np.ix_(rows, cols)]
        out[rows] = ((values >= np.array(lo)) & (values <= np.array(hi))).all(axis=1)
    return out


@dataclass
class EvalRows:
    """Row i = test prompt i (ids in sorted order), human answer and the system's answer."""

    ids: list[str]
    languages: np.ndarray
    buckets: np.ndarray
    datasets: np.ndarray
    tracks: np.ndarray
    questions: list[str]
    human: list[str]
    answers: list[str]
    utility: dict[str, np.ndarray]  # em, qa_f1, rouge_l per prompt
    feature_names: list[str]
    human_X: np.ndarray
    gen_X: np.ndarray
    human_valid: np.ndarray  # features computable (False: left out of BNG)
    gen_valid: np.ndarray
    references: dict  # bucket -> feature -> stats (train references)
    covered: np.ndarray  # HCR flag per row (NaN: bucket without reference)
    in_language: np.ndarray  # 1.0: the answer is in the prompt's language/script
    human_E: np.ndarray | None
    gen_E: np.ndarray | None
    human_E_ok: np.ndarray  # finite embedding (False: left out of MAUVE)
    gen_E_ok: np.ndarray
    generations: list[dict]
    fingerprint: str
    bucket_code: np.ndarray = None  # integer code of every row's bucket (sorted names)
    code_of: dict = None

    def __post_init__(self):
        names, codes = np.unique(self.buckets, return_inverse=True)
        self.bucket_code, self.code_of = codes, {str(b): k for k, b in enumerate(names)}

    def rows_of(self, idx: np.ndarray, bucket: str, mask: np.ndarray | None = None) -> np.ndarray:
        sel = idx[self.buckets[idx] == bucket]
        return sel if mask is None else sel[mask[sel]]

    def groups(self, idx: np.ndarray, buckets) -> dict[str, np.ndarray]:
        """{bucket: rows of idx in that bucket (in idx order)} for the given buckets (one sort)."""
        codes = self.bucket_code[idx]
        order = np.argsort(codes, kind="stable")
        ordered = codes[order]
        out = {}
        for b in buckets:
            c = self.code_of.get(b)
            if c is None:
                continue
            lo, hi = np.searchsorted(ordered, [c, c + 1])
            if hi > lo:
                out[b] = idx[order[lo:hi]]
        return out


def _reference_features(references: dict, names: list[str]) -> dict:
    if "buckets" not in references:
        raise InputError(
            "references: no 'buckets' field (expected the polyalign.references.v2 "
            "artifact of polyalign.references.build_references)"
        )
    out = {}
    known = set(names)
    for bucket, ref in references["buckets"].items():
        missing = sorted(set(ref["features"]) - known)
        if missing:
            raise InputError(
                f"references: bucket {bucket!r} has feature(s) {missing[:5]} that the "
                "feature matrices lack (were they built with another φ?)"
            )
        out[bucket] = ref["features"]
    return out


def _embeddings(ids, human_emb, gen_emb, settings, system):
    he, ge = as_embedding_table(human_emb), as_embedding_table(gen_emb)
    if (he is None) != (ge is None):
        raise InputError("give both the human and the system embeddings, or neither")
    if he is None:
        ones = np.ones(len(ids), dtype=bool)
        return None, None, ones, ones
    if he.E.shape[1] != ge.E.shape[1]:
        raise InputError(f"embedding dimensions differ: human {he.E.shape[1]}, {system} {ge.E.shape[1]}")
    human_E = he.E[table_rows(ids, he.ids, he.samples, 0, "human embeddings")]
    gen_E = ge.E[table_rows(ids, ge.ids, ge.samples, settings.sample_index, f"{system} embeddings")]
    return human_E, gen_E, np.isfinite(human_E).all(axis=1), np.isfinite(gen_E).all(axis=1)


def build_eval_rows(
    test_records: list[dict],
    generations: list[dict],
    human_feats,
    gen_feats,
    references: dict,
    human_emb,
    gen_emb,
    settings: EvaluationSettings,
    system: str = "system",
) -> EvalRows:
    """Align every input to the test prompts (sorted by id); raise InputError on any mismatch."""
    records = sorted(test_records, key=lambda r: r["id"])
    ids = [r["id"] for r in records]
    if len(set(ids)) != len(ids):
        raise InputError("test records: duplicate ids")
    gens = select_generations(ids, generations, settings.sample_index, f"{system} generations")
    hf, gf = as_feature_arrays(human_feats), as_feature_arrays(gen_feats)
    if hf.names != gf.names:
        raise InputError(
            f"{system} features: feature names differ from the human features "
            f"({len(gf.names)} vs {len(hf.names)} columns)"
        )
    h_rows = table_rows(ids, hf.ids, hf.samples, 0, "human features")
    g_rows = table_rows(ids, gf.ids, gf.samples, settings.sample_index, f"{system} features")
    human_X, gen_X = hf.X[h_rows], gf.X[g_rows]
    human_valid, gen_valid = hf.valid[h_rows], gf.valid[g_rows]
    languages = [r["language"] for r in records]
    human = [r["human_answer"] for r in records]
    answers = [g["answer"] for g in gens]
    bucket_ids = np.asarray([r["bucket_id"] for r in records])
    refs = _reference_features(references, list(hf.names))
    # an invalid response lies outside every band: +inf fails every upper bound
    gen_X_hcr = np.where(gen_valid[:, None], gen_X, np.inf)
    human_E, gen_E, human_E_ok, gen_E_ok = _embeddings(ids, human_emb, gen_emb, settings, system)
    return EvalRows(
        ids=ids,
        languages=np.asarray(languages),
        buckets=bucket_ids,
        datasets=np.asarray([r["dataset"] for r in records]),
        tracks=np.asarray([r["track"] for r in records]),
        questions=[r["question"] for r in records],
        human=human,
        answers=answers,
        utility=utility_scores(answers, human, languages, settings.zh_tokenization)["per_example"],
        feature_names=list(hf.names),
        human_X=human_X,
        gen_X=gen_X_hcr,
        human_valid=human_valid,
        gen_valid=gen_valid,
        references=refs,
        covered=row_coverage(gen_X_hcr, bucket_ids, refs, list(hf.names), *settings.hcr_band),
        in_language=language_fidelity(answers, languages)["per_example"],
        human_E=human_E,
        gen_E=gen_E,
        human_E_ok=human_E_ok,
        gen_E_ok=gen_E_ok,
        generations=gens,
        fingerprint=prompt_fingerprint(ids, languages),
    )
