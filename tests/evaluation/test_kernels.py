"""The vectorised replicate kernels against the metric definitions in polyalign.metrics."""

import math

import numpy as np
import pytest

from polyalign.evaluation.evaluate import evaluate_system
from polyalign.evaluation.kernels import (
    aggregate_replicates,
    bucket_gap_replicates,
    frontier_replicates,
    mauve_from_counts,
    transition_gap_replicates,
)
from polyalign.evaluation.replicates import weighted_replicates
from polyalign.evaluation.scope_metrics import HEADLINE_METRICS, quantized_mauve
from polyalign.metrics.distributional import feature_gaps
from polyalign.metrics.frontier import aggregate_score, hypervolume
from polyalign.metrics.mauve_metrics import MauveSettings, mauve_score
from polyalign.metrics.tdm import scaled_w1, transition_gap, transition_matrix

from . import synthetic as syn


def _repeat(W_row, X):
    return np.repeat(X, W_row.astype(int), axis=0)


def _with_ties(rng, n, f):
    X = rng.normal(size=(n, f))
    X[:, 0] = rng.integers(0, 3, size=n)  # heavy ties
    X[:, 1] = 2.5  # constant column: std floored to 1
    return X


def test_bucket_gaps_match_the_definitions_on_all_rows_and_on_resamples():
    rng = np.random.default_rng(0)
    h, g = _with_ties(rng, 9, 4), _with_ties(rng, 7, 4) + 0.3
    W_h = np.vstack([np.ones(9), rng.multinomial(9, np.ones(9) / 9, size=3)])
    W_g = np.vstack([np.ones(7), rng.multinomial(7, np.ones(7) / 7, size=3)])
    W_h[1, :2] = 0  # a replicate that never draws two human rows
    paper, robust = bucket_gap_replicates(h, g, W_h, W_g)
    for r in range(W_h.shape[0]):
        hr, gr = _repeat(W_h[r], h), _repeat(W_g[r], g)
        assert paper[r] == pytest.approx(feature_gaps(hr, gr).mean(), abs=1e-9)
        assert robust[r] == pytest.approx(feature_gaps(hr, gr, robust=True).mean(), abs=1e-9)
    empty = bucket_gap_replicates(h, g, np.zeros((1, 9)), np.ones((1, 7)))
    assert math.isnan(empty[0][0]) and math.isnan(empty[1][0])


def test_mauve_from_counts_equals_mauve_text_on_its_own_histograms():
    import mauve
    from mauve.compute_mauve import (
        compute_area_under_curve,
        get_divergence_curve_for_multinomials,
    )

    rng = np.random.default_rng(1)
    p = rng.integers(0, 6, size=(5, 8)).astype(float)
    q = rng.integers(0, 6, size=(5, 8)).astype(float)
    p[:, 0] = 0  # empty clusters on one side
    q[:, 1] = 0
    q[4] = p[4]  # identical histograms: MAUVE 1
    ours = mauve_from_counts(p, q)
    for r in range(5):
        pr, qr = p[r] / p[r].sum(), q[r] / q[r].sum()
        curve = get_divergence_curve_for_multinomials(pr, qr, np.linspace(1e-6, 1 - 1e-6, 25), 5.0)
        x, y = curve.T
        i, j = np.argsort(x), np.argsort(y)
        ref = 0.5 * (compute_area_under_curve(x[i], y[i]) + compute_area_under_curve(y[j], x[j]))
        assert ours[r] == pytest.approx(ref, abs=1e-12)
    assert ours[4] == pytest.approx(1.0, abs=1e-9)
    assert mauve is not None


@pytest.mark.parametrize("n_human, n_generated", [(40, 40), (40, 33)])
def test_quantized_mauve_reproduces_mauve_score(n_human, n_generated):
    rng = np.random.default_rng(2)
    human, gen = rng.normal(size=(n_human, 6)), rng.normal(size=(n_generated, 6)) + 0.4
    settings = MauveSettings(kmeans_num_redo=1, kmeans_max_iter=50)
    ours = quantized_mauve(human, gen, settings)
    ref = mauve_score(human, gen, settings)
    assert ours["mauve"] == pytest.approx(ref["mauve"], abs=1e-12)
    assert ours["num_clusters"] == ref["num_clusters"] and ours["n"] == ref["n"]
    # the rows left out by the equal-size subsample carry label -1
    assert (ours["labels_human"] >= 0).sum() == ref["n"] == (ours["labels_generated"] >= 0).sum()


def test_frontier_and_aggregate_kernels_match_the_definitions():
    rng = np.random.default_rng(3)
    u, n = rng.uniform(size=(50, 5)), rng.uniform(size=(50, 5))
    u[0, 2] = u[0, 3]  # a tie in utility
    n[1] = 0.0  # all points with zero naturalness: HV 0
    u[2, 1] = np.nan  # a bucket left out
    hv, count = frontier_replicates(u, n)
    for r in range(50):
        ok = np.isfinite(u[r])
        assert hv[r] == pytest.approx(hypervolume(list(zip(u[r][ok], n[r][ok]))), abs=1e-12)
        assert count[r] == ok.sum()
    parts = rng.uniform(size=(4, 30))
    parts[0, :3] = 0.0  # a zero component -> 0
    parts[1, 3:6] = np.nan  # left out
    parts[1:, 6] = np.nan  # fewer than 2 components -> NaN
    ours = aggregate_replicates(*parts)
    for r in range(30):
        ref = aggregate_score(*parts[:, r])["aggregate"]
        assert (math.isnan(ours[r]) and math.isnan(ref)) or ours[r] == pytest.approx(ref, abs=1e-12)


def test_transition_gap_kernel_matches_on_repeated_rows():
    rng = np.random.default_rng(4)
    z_q, z_h, z_g = (rng.normal(size=(11, 5)) for _ in range(3))
    W = np.vstack([np.ones(11), rng.multinomial(11, np.ones(11) / 11, size=4)])
    ours = transition_gap_replicates(z_q, z_h, z_g, W)
    for r in range(W.shape[0]):
        q, h, g = (_repeat(W[r], z) for z in (z_q, z_h, z_g))
        ref = transition_gap(transition_matrix(q, g), transition_matrix(q, h))
        assert ours[r] == pytest.approx(ref, rel=1e-7, abs=1e-9)


@pytest.fixture(scope="module")
def shifted():
    records = syn.make_records()
    refs = syn.references(records)
    answers = [
        r["human_answer"].split()[0] if r["language"] == "en" else r["human_answer"][:2] for r in records
    ]
    return records, refs, answers


def _evaluate(records, refs, answers, keep=None):
    """evaluate_system on the rows `keep` (with repeats, renamed so ids stay unique)."""
    feats_h, feats_g = syn.features(records, 1), syn.features(records, 3, shift=0.7)
    emb_h, emb_g = syn.embeddings(records, 2), syn.embeddings(records, 4, shift=0.5)
    if keep is None:
        keep = np.arange(len(records))
    recs = [dict(records[i], id=f"{records[i]['id']}-{k:03d}") for k, i in enumerate(keep)]

    def rows(table, key):
        return {
            "ids": [r["id"] for r in recs],
            **{k: v for k, v in table.items() if k != "ids"},
            key: table[key][keep],
        }

    gens = syn.generations(recs, [answers[i] for i in keep])
    return evaluate_system(
        recs,
        gens,
        rows(feats_h, "X"),
        rows(feats_g, "X"),
        refs,
        rows(emb_h, "E"),
        rows(emb_g, "E"),
        syn.settings(),
        system="s",
    )


def test_seed_replicates_with_unit_counts_are_the_point_estimates(shifted):
    result, arrays = _evaluate(*shifted)
    reps = weighted_replicates(arrays, np.ones((1, len(arrays.ids))))
    for scope, head in result["headline"].items():
        for m in HEADLINE_METRICS:
            point, rep = head[m], reps[scope][m][0]
            assert (math.isnan(point) and math.isnan(rep)) or rep == pytest.approx(point, abs=1e-9), (
                scope,
                m,
            )


def test_seed_replicates_of_a_resample_match_the_definitions_on_repeated_rows(shifted):
    """Every metric except the MAUVE family (which keeps the full-data quantization; see
    test_pooled.py for its agreement with re-clustering) and TDM (which keeps the full-data
    TF-IDF/SVD fit, checked below with the definition's own functions) equals the definition
    applied to the resampled rows, the bucket eligibility of the full data kept."""
    records, refs, answers = shifted
    _, arrays = _evaluate(records, refs, answers)
    order = np.argsort([r["id"] for r in records], kind="stable")  # the arrays' row order
    rng = np.random.default_rng(5)
    counts = np.zeros(len(records))
    for lang in ("en", "zh"):
        rows = np.flatnonzero(arrays.languages == lang)
        np.add.at(counts, rows[rng.integers(0, rows.size, rows.size)], 1)
    reps = weighted_replicates(arrays, counts[None, :])
    keep = np.repeat(order, counts.astype(int))
    resampled, _ = _evaluate(records, refs, answers, keep)
    for scope in ("overall", "en", "zh"):
        for m in (
            "em",
            "qa_f1",
            "rouge_l",
            "language_fidelity",
            "bng_macro",
            "bng_weighted",
            "bng_robust_macro",
            "bng_robust_weighted",
            "hcr_macro",
            "hcr_weighted",
        ):
            ref, ours = resampled["headline"][scope][m], reps[scope][m][0]
            assert (math.isnan(ref) and math.isnan(ours)) or ours == pytest.approx(ref, abs=1e-9), (scope, m)
    # TDM with the kept fit: the definition's gaps on the repeated rows of every multi bucket
    for scope, t in arrays.tdm.items():
        values = []
        for b in sorted(set(arrays.buckets[t["rows"]].tolist())):
            local = np.flatnonzero(arrays.buckets[t["rows"]] == b)
            w = counts[t["rows"][local]]
            if w.sum() == 0:
                continue
            rep = {k: _repeat(w, t[k][local]) for k in ("z_q", "z_h", "z_g", "human", "generated")}
            gaps = [scaled_w1(rep["generated"][:, j], rep["human"][:, j]) for j in range(3)]
            gaps.append(
                transition_gap(
                    transition_matrix(rep["z_q"], rep["z_g"]), transition_matrix(rep["z_q"], rep["z_h"])
                )
            )
            values.append(np.mean([1 / (1 + g) for g in gaps]))
        assert reps[scope]["tdm"][0] == pytest.approx(np.mean(values), abs=1e-7), scope
