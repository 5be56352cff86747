"""Settings parsing, the pooled summary over systems and seeds, paired differences."""

import numpy as np
import pytest

from polyalign.evaluation.pooled import interval_summary, paired_difference
from polyalign.evaluation.scope_metrics import HEADLINE_METRICS
from polyalign.evaluation.settings import EvaluationSettings, settings_from_config
from polyalign.evaluation.store import pooled_summary, seed_mean, summary_tsv, to_jsonable
from polyalign.io import InputError


def test_settings_from_config():
    s = settings_from_config(
        {
            "min_bucket_size": 10,
            "mauve": {"kmeans_num_redo": 1},
            "bootstrap": {"n_resamples": 200},
            "hcr_band": ["q25", "q75"],
        }
    )
    assert s.min_bucket_size == 10 and s.mauve.kmeans_num_redo == 1
    assert s.bootstrap.n_resamples == 200 and s.hcr_band == ("q25", "q75")
    assert s.mauve_for_buckets().min_size == 10
    assert settings_from_config(None) == EvaluationSettings()
    with pytest.raises(ValueError, match="unknown key"):
        settings_from_config({"bootstrap": {"resamples": 3}})
    with pytest.raises(ValueError, match="min_bucket_size"):
        settings_from_config({"mauve": {"min_size": 3}})
    with pytest.raises(ValueError, match="unknown key"):  # the old two-tier setting is gone
        settings_from_config({"bootstrap": {"n_resamples": 10, "n_resamples_expensive": 20}})
    with pytest.raises(ValueError, match="n_resamples must be >= 1"):
        settings_from_config({"bootstrap": {"n_resamples": 0}})


def test_interval_summary_by_hand():
    """Two seeds, two replicates: point 1.5; v_seed = var(1, 2) / 2 = 0.25; pooled replicates
    (1.5, 1.7): v_prompt = 2 * 0.02 = 0.04 (n = 2: k = 2); seed deviations (-0.5, 0.5) and
    (-0.3, 0.3): var 0.02 each, v_inter = 2 * 0.04 / 2 = 0.04; V = 0.25 + 0 = 0.25, share 1,
    df = S - 1 = 1; centre = 1.5 - (1.6 - 1.5) = 1.4; half = t_{0.975, 1} * 0.5."""
    ci = interval_summary([1.0, 2.0], [[1.0, 1.4], [2.0, 2.0]], 0.05, 2)
    half = 12.706204736174698 * 0.5
    assert ci["point"] == pytest.approx(1.5) and ci["centre"] == pytest.approx(1.4)
    assert ci["se"] == pytest.approx(0.5) and ci["df"] == pytest.approx(1.0)
    assert ci["low"] == pytest.approx(1.4 - half) and ci["high"] == pytest.approx(1.4 + half)
    clipped = interval_summary([1.0, 2.0], [[1.0, 1.4], [2.0, 2.0]], 0.05, 2, bounds=(0.0, 2.0))
    assert clipped["low"] == 0.0 and clipped["high"] == 2.0
    empty = interval_summary([0.5], np.empty((1, 0)), 0.05, 10)
    assert empty["n_resamples"] == 0 and empty["low"] != empty["low"]


def _fake(system, seed=0, fingerprint="abc", qa=0.5):
    return to_jsonable(
        {
            "format": "polyalign.metrics.v2",
            "system": system,
            "seed": seed,
            "n_prompts": 3,
            "languages": {"en": 3},
            "settings": {"x": 1},
            "fingerprint": fingerprint,
            "headline": {"en": {m: qa if m == "qa_f1" else float("nan") for m in HEADLINE_METRICS}},
            "scopes": {"en": {"diversity": {"distinct_1": qa}}},
            "per_bucket": {
                "b1": {
                    "language": "en",
                    "qa_f1": qa,
                    "bng": None,
                    "eligible": True,
                    "nuf_point": [qa, 0.5],
                    "on_frontier": True,
                }
            },
            "per_corpus": {},
            "generation_stats": {"n": 3, "empty_answers": seed},
            "no_answer": {"overall": {"k": seed, "n": 3}, "en": {"k": seed, "n": 3}},
        }
    )


def _headline(systems):
    return {
        s: {"en": {m: interval_summary([0.5], [[0.4, 0.5, 0.6]], 0.05, 3) for m in HEADLINE_METRICS}}
        for s in systems
    }


def test_pooled_summary_and_tsv():
    metrics = {
        "sft": {0: _fake("sft", 0, qa=0.4), 1: _fake("sft", 1, qa=0.6)},
        "hdpo": {0: _fake("hdpo", 0), 1: _fake("hdpo", 1)},
    }
    summary = pooled_summary(metrics, _headline(["sft", "hdpo"]), {"n_resamples": 3})
    assert summary["systems"] == ["sft", "hdpo"] and summary["seeds"] == ["0", "1"]
    assert summary["per_bucket"]["sft"]["b1"]["qa_f1"] == pytest.approx(0.5)
    assert summary["per_bucket"]["sft"]["b1"]["nuf_point"] == pytest.approx([0.5, 0.5])
    assert summary["diversity"]["sft"]["en"]["distinct_1"] == pytest.approx(0.5)
    assert summary["generation_stats"]["sft"]["mean"]["empty_answers"] == pytest.approx(0.5)
    assert summary["generation_stats"]["sft"]["seeds"]["1"]["empty_answers"] == 1
    # answers missing, summed over the seeds: 0 + 1 of 3 + 3
    assert summary["no_answer"]["sft"]["en"] == {"k": 1, "n": 6}
    old = _fake("sft", 1)
    del old["no_answer"]
    with pytest.raises(InputError, match="no 'no_answer' counts"):
        pooled_summary({"sft": {0: _fake("sft"), 1: old}}, _headline(["sft"]), {})
    lines = summary_tsv(summary, ("qa_f1",)).splitlines()
    assert lines[0].split("\t")[:3] == ["system", "scope", "metric"]
    # one seed, replicates 0.4, 0.5, 0.6 over 3 prompts: se sqrt(1.5 * 0.01), df 2, t 4.303
    assert "sft\ten\tqa_f1\t0.5\t-0.0269652\t1.02697\t3\t3" in lines
    bad = {"sft": {0: _fake("sft"), 1: _fake("sft", 1, fingerprint="zzz")}}
    with pytest.raises(InputError, match="fingerprints differ"):
        pooled_summary(bad, _headline(["sft"]), {})
    other = _fake("sft", 1)
    other["settings"] = {"x": 2}
    with pytest.raises(InputError, match="other settings"):
        pooled_summary({"sft": {0: _fake("sft"), 1: other}}, _headline(["sft"]), {})


def test_seed_mean_of_trees():
    assert seed_mean([1, 2, None]) == 1.5 and seed_mean([None, None]) is None
    assert seed_mean([{"a": 1, "b": "x"}, {"a": 3, "b": "x", "c": 1}]) == {"a": 2.0, "b": "x"}
    assert seed_mean(["x", "y"]) is None and seed_mean([True, True]) is True


def test_paired_difference():
    reps = {
        "n_prompts": {"en": 40},
        "seeds": ["0", "1", "2"],
        "per_seed": {
            "a": {"en": {"qa_f1": np.array([[0.5, 0.6, 0.7], [0.6, 0.6, 0.6], [0.7, 0.7, 0.7]])}},
            "b": {"en": {"qa_f1": np.array([[0.4, 0.5, 0.65], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]])}},
        },
    }
    points = {"a": {"en": {"qa_f1": [0.6, 0.6, 0.7]}}, "b": {"en": {"qa_f1": [0.5, 0.5, 0.5]}}}
    d = paired_difference(reps, points, "a", "b", "en", "qa_f1", 0.05)
    # the statistic is the per-seed difference: points (0.1, 0.1, 0.2), replicates
    # (0.1, 0.1, 0.05), (0.1, 0.1, 0.1), (0.2, 0.2, 0.2)
    expected = interval_summary(
        [0.1, 0.1, 0.2], [[0.1, 0.1, 0.05], [0.1, 0.1, 0.1], [0.2, 0.2, 0.2]], 0.05, 40
    )
    assert d == pytest.approx(expected, nan_ok=True)
    assert d["point"] == pytest.approx(0.4 / 3) and d["n_finite"] == 3
    one = paired_difference(reps, points, "a", "b", "en", "qa_f1", 0.05, seed_index=0)
    assert one == pytest.approx(interval_summary([0.1], [[0.1, 0.1, 0.05]], 0.05, 40), nan_ok=True)
    same = paired_difference(reps, points, "a", "a", "en", "qa_f1", 0.05)
    assert same["point"] == 0.0 and same["low"] == 0.0 and same["high"] == 0.0
    with pytest.raises(InputError, match="no replicates"):
        paired_difference(reps, points, "a", "c", "en", "qa_f1", 0.05)
    with pytest.raises(InputError, match="no prompt count"):
        paired_difference(reps, points, "a", "b", "zh", "qa_f1", 0.05)
