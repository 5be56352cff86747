"""The pooled two-level interval: draws, pairing, the replicates file, and the MAUVE histogram
shortcut against full re-clustering (coverage: test_interval_coverage.py)."""

import math

import numpy as np
import pytest

from polyalign.evaluation.evaluate import evaluate_system
from polyalign.evaluation.kernels import label_counts, mauve_from_counts
from polyalign.evaluation.pooled import (
    draw_counts,
    headline_intervals,
    load_replicates,
    paired_difference,
    pooled_replicates,
    save_replicates,
)
from polyalign.evaluation.scope_metrics import HEADLINE_METRICS, quantized_mauve
from polyalign.io import InputError
from polyalign.metrics.mauve_metrics import MauveSettings, mauve_score

from . import synthetic as syn


def test_draws_keep_language_sizes():
    languages = ["en"] * 7 + ["zh"] * 3
    W = draw_counts(languages, 200, seed=1)
    assert W.shape == (200, 10)
    assert (W[:, :7].sum(axis=1) == 7).all() and (W[:, 7:].sum(axis=1) == 3).all()
    assert np.array_equal(W, draw_counts(languages, 200, seed=1))


@pytest.fixture(scope="module")
def three_seeds():
    """Two systems x three seeds on the synthetic split: 'good' close to the human answers,
    'bad' shifted further; seeds differ in their noise."""
    records = syn.make_records()
    refs = syn.references(records)
    arrays, points, docs = {}, {}, {}
    for system, shift in (("good", 0.2), ("bad", 0.9)):
        for seed in (0, 1, 2):
            answers = [
                r["human_answer"] if (i + seed) % 3 else r["human_answer"].split()[0][:2]
                for i, r in enumerate(records)
            ]
            doc, arr = evaluate_system(
                records,
                syn.generations(records, answers),
                syn.features(records, 1),
                syn.features(records, 10 + seed, shift=shift),
                refs,
                syn.embeddings(records, 2),
                syn.embeddings(records, 20 + seed, shift=shift),
                syn.settings(),
                system=system,
                seed=seed,
            )
            arrays.setdefault(system, {})[seed] = arr
            docs.setdefault(system, {})[seed] = doc
    for system, by_seed in docs.items():
        points[system] = {
            scope: {m: [by_seed[s]["headline"][scope][m] for s in (0, 1, 2)] for m in HEADLINE_METRICS}
            for scope in ("overall", "en", "zh")
        }
    return records, arrays, points


def test_pooled_intervals_cover_their_points_and_pair_systems(three_seeds, tmp_path):
    _, arrays, points = three_seeds
    reps = pooled_replicates(arrays, n_resamples=300, seed=42)
    head = headline_intervals(points, reps, alpha=0.05)
    ci = head["good"]["en"]["g_mauve"]
    assert ci["n_resamples"] == 300 and ci["n_finite"] == 300
    assert ci["point"] == pytest.approx(np.mean(points["good"]["en"]["g_mauve"]))
    for system in ("good", "bad"):
        for scope, metrics in head[system].items():
            for m, c in metrics.items():
                if math.isfinite(c["point"]) and c["n_finite"]:
                    assert c["low"] <= c["high"], (system, scope, m)
                    if m in ("qa_f1", "em", "rouge_l", "language_fidelity"):  # means: no bias
                        assert c["low"] <= c["point"] <= c["high"], (system, scope, m)
                    assert set(c["seeds"]) == {"0", "1", "2"}
    records = three_seeds[0]
    langs = [r["language"] for r in records]
    assert reps["n_prompts"] == {"overall": len(records), "en": langs.count("en"), "zh": langs.count("zh")}
    diff = paired_difference(reps, points, "good", "bad", "en", "bng_macro", 0.05)
    assert diff["point"] < 0  # 'good' is closer to the human features
    # BNG brackets the difference's bias with the two systems' bounds (buckets of 12 prompts:
    # each bound is most of the plug-in, so this difference is not significant)
    bounds = reps["bias_bound"]
    assert diff["bias_high"] == pytest.approx(bounds["good"]["en"]["bng_macro"].mean())
    assert diff["bias_low"] == pytest.approx(-bounds["bad"]["en"]["bng_macro"].mean())
    half = diff["high"] - (diff["point"] - diff["bias_low"])
    assert half > 0 and diff["low"] == pytest.approx(diff["point"] - diff["bias_high"] - half)
    ci = head["good"]["en"]["bng_robust_weighted"]
    assert ci["bias_low"] == 0.0 and ci["bias_high"] == pytest.approx(
        bounds["good"]["en"]["bng_robust_weighted"].mean()
    )
    assert ci["low"] <= ci["point"] <= ci["high"]  # no resampling bias correction: the plug-in is inside
    same = paired_difference(reps, points, "good", "good", "en", "bng_macro", 0.05)
    assert (same["point"], same["low"], same["high"]) == (0.0, 0.0, 0.0)
    save_replicates(tmp_path / "r.npz", reps)
    back = load_replicates(tmp_path / "r.npz")
    again = paired_difference(back, points, "good", "bad", "en", "bng_macro", 0.05)
    assert again == diff
    del back["bias_bound"]["bad"]
    with pytest.raises(InputError, match="rerun combine_metrics"):
        paired_difference(back, points, "good", "bad", "en", "bng_macro", 0.05)


@pytest.mark.slow
def test_mauve_histogram_replicates_agree_with_full_recomputation():
    """On a few resamples, MAUVE from the kept quantization (recounted histograms) vs
    mauve_score re-clustering the resampled embeddings: within 0.12 each and 0.06 on average,
    which is the size of the re-clustering's own noise (another k-means seed moves a full
    recomputation by as much; measured 0.07-0.12 on this data)."""
    rng = np.random.default_rng(0)
    n, centers = 300, rng.normal(scale=3, size=(8, 16))

    def sample(weights):
        return centers[rng.choice(8, size=n, p=weights)] + rng.normal(size=(n, 16))

    human, gen = sample(np.ones(8) / 8), sample(np.array([3, 3, 2, 2, 1, 1, 1, 1]) / 14)
    settings = MauveSettings(kmeans_num_redo=1, kmeans_max_iter=100)
    q = quantized_mauve(human, gen, settings)
    W = draw_counts(["en"] * n, 6, seed=1)
    ours = mauve_from_counts(
        label_counts(W, q["labels_generated"], q["num_clusters"]),
        label_counts(W, q["labels_human"], q["num_clusters"]),
    )
    full = np.array(
        [
            mauve_score(human[np.repeat(np.arange(n), w)], gen[np.repeat(np.arange(n), w)], settings)["mauve"]
            for w in W
        ]
    )
    gaps = np.abs(ours - full)
    assert gaps.max() < 0.12 and gaps.mean() < 0.06, gaps
