"""Settings parsing, the pooled summary over systems and seeds, paired differences."""

import numpy as np
import pytest

from polyalign.evaluation import (
    HEADLINE_METRICS,
    EvaluationSettings,
    ci_summary,
    paired_difference,
    pooled_summary,
    settings_from_config,
    summary_tsv,
)
from polyalign.evaluation.store import seed_mean, to_jsonable
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


def test_ci_summary_is_centred_on_the_point():
    ci = ci_summary(1.0, [2.0, 2.1, 2.2, 2.3, 2.4], alpha=0.5)  # biased replicates
    assert ci["pct_low"] == pytest.approx(2.1) and ci["pct_high"] == pytest.approx(2.3)
    assert ci["low"] == pytest.approx(0.9) and ci["high"] == pytest.approx(1.1)
    clipped = ci_summary(0.999, [0.97, 0.98, 0.985, 0.99, 0.995], alpha=0.5, bounds=(0.0, 1.0))
    assert clipped["high"] == 1.0 and clipped["low"] == pytest.approx(0.994)
    empty = ci_summary(0.5, [], 0.05)
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
    return {s: {"en": {m: ci_summary(0.5, [0.4, 0.5, 0.6], 0.05) for m in HEADLINE_METRICS}} for s in systems}


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
    assert "sft\ten\tqa_f1\t0.5\t0.405\t0.595\t3\t3" in lines  # quantiles of 3 values
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
    C = np.array([[1, 1, 1], [3, 0, 0], [0, 0, 3]])
    reps = {
        "C": C,
        "seeds": ["0", "1", "2"],
        "per_seed": {
            "a": {"en": {"qa_f1": np.array([[0.5, 0.6, 0.7], [0.6, 0.6, 0.6], [0.7, 0.7, 0.7]])}},
            "b": {"en": {"qa_f1": np.array([[0.4, 0.5, 0.65], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]])}},
        },
    }
    points = {"a": {"en": {"qa_f1": [0.6, 0.6, 0.7]}}, "b": {"en": {"qa_f1": [0.5, 0.5, 0.5]}}}
    d = paired_difference(reps, points, "a", "b", "en", "qa_f1", 0.05)
    # replicate r of a system = sum_s C[r, s] per_seed[s, r] / 3:
    # a = (1.8/3, 0.6, 0.7), b = (1.4/3, 0.5, 0.5) -> differences (0.4/3, 0.1, 0.2)
    assert d["point"] == pytest.approx(1.9 / 3 - 0.5) and d["n_finite"] == 3
    assert d["bootstrap_median"] == pytest.approx(0.4 / 3)
    one = paired_difference(reps, points, "a", "b", "en", "qa_f1", 0.05, seed_index=0)
    assert one["point"] == pytest.approx(0.1)
    assert one["pct_low"] == pytest.approx(0.05, abs=0.01)
    with pytest.raises(InputError, match="no replicates"):
        paired_difference(reps, points, "a", "c", "en", "qa_f1", 0.05)
