"""The per-prompt arrays one (seed, system) evaluation leaves for the pooled bootstrap, and the
replicate values of every headline metric for a matrix of prompt counts.

`ResampleArrays` holds what a bootstrap replicate needs and nothing it recomputes: per-prompt
utility and language-fidelity scores, the feature matrices and validity flags (BNG), the HCR
coverage flag of every row, the kept MAUVE quantizations (cluster label of every response, per
scope for G-MAUVE and per bucket for C-MAUVE) and the kept TDM latents and row statistics. It is
written next to the seed's metrics file as `.resample.npz`.

`weighted_replicates(arrays, W)` computes, for W [R, n] (how often each test prompt is drawn in
each replicate), every headline metric of every scope with the kernels of `kernels.py`; bucket
eligibility is the one decided on the full data. With W = 1 it gives the point estimates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from polyalign.config import block_defaults
from polyalign.io import InputError, atomic_path
from polyalign.metrics.distributional import in_scope_columns

from .kernels import (
    aggregate_replicates,
    bng_naturalness,
    bucket_gap_replicates,
    frontier_replicates,
    group_means,
    label_counts,
    macro_weighted,
    mauve_from_counts,
    naturalness,
    scaled_w1_replicates,
    transition_gap_replicates,
    weighted_mean,
)

RESAMPLE_FORMAT = "polyalign.resample.v1"
UTILITY = ("em", "qa_f1", "rouge_l", "language_fidelity")


# Defaults are the config schema's evaluation.mauve block (the one place they are written).
_MAUVE = block_defaults("evaluation", "mauve")


@dataclass
class ResampleArrays:
    ids: list[str]
    languages: np.ndarray
    buckets: np.ndarray
    scores: dict[str, np.ndarray]  # UTILITY per prompt
    human_X: np.ndarray
    gen_X: np.ndarray
    human_valid: np.ndarray
    gen_valid: np.ndarray
    covered: np.ndarray
    human_E_ok: np.ndarray
    gen_E_ok: np.ndarray
    eligible: dict[str, list[str]]  # scope -> eligible buckets
    scope_rows: dict[str, np.ndarray]  # scope -> row indices
    global_labels: dict[str, dict]  # scope -> {human, generated, num_clusters}
    bucket_labels: dict[str, dict]  # bucket -> {human, generated, num_clusters}
    tdm: dict[str, dict] = field(default_factory=dict)  # scope -> {rows, z_q, z_h, z_g, human, generated}
    mauve_scaling_factor: float = _MAUVE["mauve_scaling_factor"]
    mauve_discretization: int = _MAUVE["divergence_curve_discretization_size"]


def save_resample_arrays(path, a: ResampleArrays, system: str, seed) -> None:
    arrays = {
        "ids": np.asarray(a.ids, dtype=str),
        "languages": a.languages.astype(str),
        "buckets": a.buckets.astype(str),
        "human_X": a.human_X,
        "gen_X": a.gen_X,
        "human_valid": a.human_valid,
        "gen_valid": a.gen_valid,
        "covered": a.covered,
        "human_E_ok": a.human_E_ok,
        "gen_E_ok": a.gen_E_ok,
    }
    arrays.update({f"score/{k}": v for k, v in a.scores.items()})
    arrays.update({f"scope/{s}": v for s, v in a.scope_rows.items()})
    clusters = {"global": {}, "bucket": {}}
    for kind, table in (("global", a.global_labels), ("bucket", a.bucket_labels)):
        for i, (name, lab) in enumerate(sorted(table.items())):
            arrays[f"{kind}/{i}/human"], arrays[f"{kind}/{i}/generated"] = lab["human"], lab["generated"]
            clusters[kind][name] = [i, int(lab["num_clusters"])]
    for scope, t in a.tdm.items():
        arrays.update({f"tdm/{scope}/{k}": np.asarray(v) for k, v in t.items()})
    meta = {
        "format": RESAMPLE_FORMAT,
        "system": system,
        "seed": seed,
        "eligible": a.eligible,
        "clusters": clusters,
        "tdm_scopes": sorted(a.tdm),
        "mauve": [a.mauve_scaling_factor, a.mauve_discretization],
    }
    arrays["meta"] = np.asarray(json.dumps(meta, sort_keys=True))
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)


def load_resample_arrays(path) -> tuple[dict, ResampleArrays]:
    """(meta {system, seed, ...}, arrays) of a `.resample.npz`."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        if meta.get("format") != RESAMPLE_FORMAT:
            raise InputError(f"{path}: not a resample file (expected format {RESAMPLE_FORMAT!r})")
        d = {k: z[k] for k in z.files}

    def labels(kind):
        return {
            name: {
                "human": d[f"{kind}/{i}/human"],
                "generated": d[f"{kind}/{i}/generated"],
                "num_clusters": k,
            }
            for name, (i, k) in meta["clusters"][kind].items()
        }

    tdm = {
        s: {k: d[f"tdm/{s}/{k}"] for k in ("rows", "z_q", "z_h", "z_g", "human", "generated")}
        for s in meta["tdm_scopes"]
    }
    arrays = ResampleArrays(
        ids=[str(i) for i in d["ids"]],
        languages=d["languages"],
        buckets=d["buckets"],
        scores={k[len("score/") :]: v for k, v in d.items() if k.startswith("score/")},
        human_X=d["human_X"],
        gen_X=d["gen_X"],
        human_valid=d["human_valid"],
        gen_valid=d["gen_valid"],
        covered=d["covered"],
        human_E_ok=d["human_E_ok"],
        gen_E_ok=d["gen_E_ok"],
        eligible=meta["eligible"],
        scope_rows={k[len("scope/") :]: v for k, v in d.items() if k.startswith("scope/")},
        global_labels=labels("global"),
        bucket_labels=labels("bucket"),
        tdm=tdm,
        mauve_scaling_factor=meta["mauve"][0],
        mauve_discretization=meta["mauve"][1],
    )
    return meta, arrays


def _bucket_replicates(a: ResampleArrays, W: np.ndarray, buckets: list[str], bias_bounds: bool) -> dict:
    """Per eligible bucket: BNG, BNG-robust, generated rows, QA-F1 and C-MAUVE replicates (and
    the bias bounds of BNG and BNG-robust, `w1_bias`, with bias_bounds)."""
    out = {}
    for b in buckets:
        rows = a.buckets == b
        h_rows, g_rows = np.flatnonzero(rows & a.human_valid), np.flatnonzero(rows & a.gen_valid)
        nan = np.full(W.shape[0], np.nan)
        paper = robust = nan
        bounds = (np.nan, np.nan)
        if h_rows.size and g_rows.size:
            keep = in_scope_columns(a.human_X[h_rows], a.gen_X[g_rows], b)
            if keep.any():
                paper, robust, *found = bucket_gap_replicates(
                    a.human_X[h_rows][:, keep],
                    a.gen_X[g_rows][:, keep],
                    W[:, h_rows],
                    W[:, g_rows],
                    bias_bounds=bias_bounds,
                )
                bounds = tuple(found) or bounds
        sel = np.flatnonzero(rows)
        cm = nan
        if b in a.bucket_labels:
            lab = a.bucket_labels[b]
            p, q = (label_counts(W, lab[s], lab["num_clusters"]) for s in ("generated", "human"))
            cm = mauve_from_counts(p, q, a.mauve_scaling_factor, a.mauve_discretization)
            cm[np.minimum(p.sum(axis=1), q.sum(axis=1)) < 2] = np.nan
        out[b] = {
            "bng": paper,
            "bng_robust": robust,
            "n_gen": W[:, g_rows].sum(axis=1),
            "qa_f1": weighted_mean(W[:, sel], a.scores["qa_f1"][sel]),
            "c_mauve": cm,
            "n_gen_emb": W[:, np.flatnonzero(rows & a.gen_E_ok)].sum(axis=1),
            "bng_bound": bounds[0],
            "bng_robust_bound": bounds[1],
            "n_gen_full": float(g_rows.size),
        }
    return out


def _tdm_replicates(t: dict, buckets: np.ndarray, W: np.ndarray) -> dict[str, np.ndarray]:
    rows = t["rows"].astype(int)
    out = {}
    for b in sorted(set(buckets[rows].tolist())):
        local = np.flatnonzero(buckets[rows] == b)
        Wb = W[:, rows[local]]
        gaps = [
            scaled_w1_replicates(t["generated"][local, j], t["human"][local, j], Wb)
            for j in range(t["human"].shape[1])
        ]
        gaps.append(transition_gap_replicates(t["z_q"][local], t["z_h"][local], t["z_g"][local], Wb))
        value = np.mean([1.0 / (1.0 + g) for g in gaps], axis=0)
        value[Wb.sum(axis=1) == 0] = np.nan
        out[str(b)] = value
    return out


def weighted_replicates(a: ResampleArrays, W: np.ndarray, bias_bounds: bool = False):
    """{scope: {headline metric: values [R]}} for prompt counts W [R, n].

    With bias_bounds, (that, {scope: {W1 metric: float}}): the upper bounds of the bias of the
    full-data BNG and BNG-robust values (`w1_bias`), averaged over buckets like the metric."""
    W = np.asarray(W, dtype=float)
    all_eligible = sorted(set().union(*map(set, a.eligible.values())))
    per_bucket = _bucket_replicates(a, W, all_eligible, bias_bounds)
    out, bounds = {}, {}
    for scope, idx in a.scope_rows.items():
        Ws = W[:, idx]
        reps = {k: weighted_mean(Ws, a.scores[k][idx]) for k in UTILITY}
        elig = a.eligible[scope]

        def stack(key, elig=elig):
            return (
                np.stack([per_bucket[b][key] for b in elig], axis=1)
                if elig
                else np.full((W.shape[0], 0), np.nan)
            )

        bng_b, weights = stack("bng"), stack("n_gen")
        reps["bng_macro"], reps["bng_weighted"] = macro_weighted(bng_b, weights)
        reps["bng_robust_macro"], reps["bng_robust_weighted"] = macro_weighted(stack("bng_robust"), weights)
        codes = np.unique(a.buckets[idx], return_inverse=True)[1]
        rates, totals = group_means(Ws, a.covered[idx], codes, int(codes.max()) + 1)
        reps["hcr_macro"] = (
            np.nanmean(np.where(totals > 0, rates, np.nan), axis=1)
            if np.isfinite(a.covered[idx]).any()
            else np.full(W.shape[0], np.nan)
        )
        finite = np.isfinite(a.covered[idx])
        reps["hcr_weighted"] = weighted_mean(Ws[:, finite], a.covered[idx][finite])
        lab = a.global_labels.get(scope)
        if lab is None:
            reps["g_mauve"] = np.full(W.shape[0], np.nan)
        else:
            reps["g_mauve"] = mauve_from_counts(
                label_counts(W, lab["generated"], lab["num_clusters"]),
                label_counts(W, lab["human"], lab["num_clusters"]),
                a.mauve_scaling_factor,
                a.mauve_discretization,
            )
        cm_b = stack("c_mauve")
        reps["c_mauve_macro"], reps["c_mauve_weighted"] = macro_weighted(cm_b, stack("n_gen_emb"))
        tdm_b = _tdm_replicates(a.tdm[scope], a.buckets, W) if scope in a.tdm else {}
        tdm_stack = np.stack(list(tdm_b.values()), axis=1) if tdm_b else np.full((W.shape[0], 0), np.nan)
        reps["tdm"] = (
            macro_weighted(tdm_stack, np.ones_like(tdm_stack))[0] if tdm_b else np.full(W.shape[0], np.nan)
        )
        u = np.clip(stack("qa_f1"), 0, 1)
        nat = naturalness([bng_naturalness(bng_b), np.clip(cm_b, 0, 1)])
        reps["nuf"], _ = frontier_replicates(u, nat)
        if tdm_b:
            tdm_full = np.stack([tdm_b.get(b, np.full(W.shape[0], np.nan)) for b in elig], axis=1)
            nat_mt = naturalness([bng_naturalness(bng_b), np.clip(cm_b, 0, 1), np.clip(tdm_full, 0, 1)])
            reps["nuf_multi_turn"], _ = frontier_replicates(u, nat_mt)
        else:
            reps["nuf_multi_turn"] = np.full(W.shape[0], np.nan)
        reps["aggregate"] = aggregate_replicates(
            reps["qa_f1"], reps["bng_macro"], reps["g_mauve"], reps["nuf"]
        )
        out[scope] = reps
        if bias_bounds:
            full_weights = np.array([[per_bucket[b]["n_gen_full"] for b in elig]])
            bounds[scope] = {}
            for key, metric in (("bng_bound", "bng"), ("bng_robust_bound", "bng_robust")):
                per_b = np.array([[per_bucket[b][key] for b in elig]], dtype=float)
                macro, weighted = macro_weighted(per_b, full_weights)
                bounds[scope][f"{metric}_macro"], bounds[scope][f"{metric}_weighted"] = macro[0], weighted[0]
    return (out, bounds) if bias_bounds else out
