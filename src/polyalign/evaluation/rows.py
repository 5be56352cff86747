"""The aligned per-prompt arrays of one system's evaluation (built once, indexed by resamples).

Invalid rows: a response whose features could not be computed (`valid = False`, e.g. an empty
generation) is left out of the generated side of BNG / BNG-robust and counts as *not covered*
for HCR (an empty response lies in no human band); a row whose embedding is not finite is left
out of MAUVE. Utility metrics score every row (an empty answer scores 0). Counts are reported.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polyalign.io import InputError
from polyalign.metrics import utility_scores

from .inputs import (as_embedding_table, as_feature_arrays, prompt_fingerprint,
                     select_generations, table_rows)
from .resample_kernels import joint_ranks, row_coverage
from .settings import EvaluationSettings


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
    utility: dict[str, np.ndarray]       # em, qa_f1, rouge_l per prompt
    feature_names: list[str]
    human_X: np.ndarray
    gen_X: np.ndarray
    human_valid: np.ndarray               # features computable (False: left out of BNG)
    gen_valid: np.ndarray
    references: dict                      # bucket -> feature -> stats (train references)
    covered: np.ndarray                   # HCR flag per row (NaN: bucket without reference)
    human_rank: np.ndarray                # joint dense ranks per bucket and feature (BNG-robust)
    gen_rank: np.ndarray
    human_E: np.ndarray | None
    gen_E: np.ndarray | None
    human_E_ok: np.ndarray                # finite embedding (False: left out of MAUVE)
    gen_E_ok: np.ndarray
    generations: list[dict]
    fingerprint: str
    bucket_code: np.ndarray = None        # integer code of every row's bucket (sorted names)
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
        raise InputError("references: no 'buckets' field (expected the polyalign.references.v2 "
                         "artifact of polyalign.references.build_references)")
    out = {}
    known = set(names)
    for bucket, ref in references["buckets"].items():
        missing = sorted(set(ref["features"]) - known)
        if missing:
            raise InputError(f"references: bucket {bucket!r} has feature(s) {missing[:5]} that the "
                             "feature matrices lack (were they built with another φ?)")
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
        raise InputError(f"embedding dimensions differ: human {he.E.shape[1]}, "
                         f"{system} {ge.E.shape[1]}")
    human_E = he.E[table_rows(ids, he.ids, he.samples, 0, "human embeddings")]
    gen_E = ge.E[table_rows(ids, ge.ids, ge.samples, settings.sample_index, f"{system} embeddings")]
    return human_E, gen_E, np.isfinite(human_E).all(axis=1), np.isfinite(gen_E).all(axis=1)


def build_eval_rows(test_records: list[dict], generations: list[dict], human_feats, gen_feats,
                    references: dict, human_emb, gen_emb, settings: EvaluationSettings,
                    system: str = "system") -> EvalRows:
    """Align every input to the test prompts (sorted by id); raise InputError on any mismatch."""
    records = sorted(test_records, key=lambda r: r["id"])
    ids = [r["id"] for r in records]
    if len(set(ids)) != len(ids):
        raise InputError("test records: duplicate ids")
    gens = select_generations(ids, generations, settings.sample_index, f"{system} generations")
    hf, gf = as_feature_arrays(human_feats), as_feature_arrays(gen_feats)
    if hf.names != gf.names:
        raise InputError(f"{system} features: feature names differ from the human features "
                         f"({len(gf.names)} vs {len(hf.names)} columns)")
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
    human_rank, gen_rank = joint_ranks(np.where(human_valid[:, None], human_X, np.nan),
                                       np.where(gen_valid[:, None], gen_X, np.nan), bucket_ids)
    human_E, gen_E, human_E_ok, gen_E_ok = _embeddings(ids, human_emb, gen_emb, settings, system)
    return EvalRows(
        ids=ids, languages=np.asarray(languages), buckets=bucket_ids,
        datasets=np.asarray([r["dataset"] for r in records]),
        tracks=np.asarray([r["track"] for r in records]),
        questions=[r["question"] for r in records], human=human, answers=answers,
        utility=utility_scores(answers, human, languages, settings.zh_tokenization)["per_example"],
        feature_names=list(hf.names), human_X=human_X, gen_X=gen_X_hcr,
        human_valid=human_valid, gen_valid=gen_valid, references=refs,
        covered=row_coverage(gen_X_hcr, bucket_ids, refs, list(hf.names), *settings.hcr_band),
        human_rank=human_rank, gen_rank=gen_rank, human_E=human_E, gen_E=gen_E,
        human_E_ok=human_E_ok, gen_E_ok=gen_E_ok, generations=gens,
        fingerprint=prompt_fingerprint(ids, languages),
    )
