"""Settings parsing, combining systems, paired differences."""
import copy

import pytest

from polyalign.evaluation import (EvaluationSettings, combine_metrics, paired_difference,
                                  settings_from_config, summary_tsv)
from polyalign.evaluation.resampling import ci_summary
from polyalign.evaluation.store import split_replicates, to_jsonable
from polyalign.io import InputError


def test_settings_from_config():
    s = settings_from_config({"min_bucket_size": 10, "mauve": {"kmeans_num_redo": 1},
                              "bootstrap": {"n_resamples": 200, "n_resamples_expensive": 20},
                              "hcr_band": ["q25", "q75"]})
    assert s.min_bucket_size == 10 and s.mauve.kmeans_num_redo == 1
    assert s.bootstrap.n_resamples == 200 and s.hcr_band == ("q25", "q75")
    assert s.mauve_for_buckets().min_size == 10
    assert settings_from_config(None) == EvaluationSettings()
    with pytest.raises(ValueError, match="unknown key"):
        settings_from_config({"bootstrap": {"resamples": 3}})
    with pytest.raises(ValueError, match="min_bucket_size"):
        settings_from_config({"mauve": {"min_size": 3}})
    with pytest.raises(ValueError, match="must not exceed"):
        settings_from_config({"bootstrap": {"n_resamples": 10, "n_resamples_expensive": 20}})


def test_ci_summary_is_centred_on_the_point():
    ci = ci_summary(1.0, [2.0, 2.1, 2.2, 2.3, 2.4], alpha=0.5)   # biased replicates
    assert ci["pct_low"] == pytest.approx(2.1) and ci["pct_high"] == pytest.approx(2.3)
    assert ci["low"] == pytest.approx(0.9) and ci["high"] == pytest.approx(1.1)
    clipped = ci_summary(0.999, [0.97, 0.98, 0.985, 0.99, 0.995], alpha=0.5, bounds=(0.0, 1.0))
    assert clipped["high"] == 1.0 and clipped["low"] == pytest.approx(0.994)
    empty = ci_summary(0.5, [], 0.05)
    assert empty["n_resamples"] == 0 and empty["low"] != empty["low"]


def _fake(system, fingerprint="abc", qa=(0.5, [0.4, 0.5, 0.6])):
    head = {"qa_f1": ci_summary(qa[0], qa[1], 0.05)}
    from polyalign.evaluation import HEADLINE_METRICS
    for m in HEADLINE_METRICS:
        head.setdefault(m, ci_summary(float("nan"), [], 0.05))
    return to_jsonable({
        "format": "polyalign.metrics.v1", "system": system, "n_prompts": 3,
        "languages": {"en": 3}, "settings": {"x": 1}, "headline": {"en": head},
        "scopes": {"en": {"diversity": {}}}, "per_bucket": {}, "per_corpus": {},
        "generation_stats": {},
        "bootstrap": {"fingerprint": fingerprint, "seed": 42, "alpha": 0.05, "n_resamples": 3,
                      "n_resamples_expensive": 0, "expensive_overall": False,
                      "replicates": {"en": {"qa_f1": qa[1]}}},
    })


def test_combine_and_tsv():
    summary = combine_metrics({"sft": _fake("sft"), "hdpo": _fake("hdpo")})
    assert summary["systems"] == ["sft", "hdpo"]
    lines = summary_tsv(summary).splitlines()
    assert lines[0].split("\t")[:3] == ["system", "scope", "metric"]
    assert "sft\ten\tqa_f1\t0.5\t" in "\n".join(lines)
    with pytest.raises(InputError, match="fingerprints differ"):
        combine_metrics({"sft": _fake("sft"), "hdpo": _fake("hdpo", fingerprint="zzz")})
    other = _fake("hdpo")
    other["settings"] = {"x": 2}
    with pytest.raises(InputError, match="other settings"):
        combine_metrics({"sft": _fake("sft"), "hdpo": other})


def test_paired_difference():
    _, a = split_replicates(_fake("a", qa=(0.6, [0.5, 0.6, 0.7])))
    _, b = split_replicates(_fake("b", qa=(0.5, [0.4, 0.5, 0.65])))
    d = paired_difference(a, b, "en", "qa_f1", 0.6, 0.5)
    assert d["point"] == pytest.approx(0.1) and d["n_finite"] == 3
    assert d["pct_low"] == pytest.approx(0.05, abs=0.01)
    c = copy.deepcopy(b)
    c["seed"] = 1
    with pytest.raises(InputError, match="seed differs"):
        paired_difference(a, c, "en", "qa_f1", 0.6, 0.5)
