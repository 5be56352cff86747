import pytest

from polyalign.evaluation.seed_mean import headline_intervals, mean_bootstrap, mean_over_seeds
from polyalign.io import InputError

BOOT = {"fingerprint": "f", "seed": 42, "alpha": 0.5, "n_resamples": 4, "n_resamples_expensive": 2}


def metrics(system, point, low, n):
    ci = {"point": point, "low": low, "high": low + 1, "bootstrap_median": low + 0.5, "n_resamples": 4, "alpha": 0.5}
    return {"system": system, "bootstrap": dict(BOOT), "n_prompts": n, "languages": ["en"],
            "headline": {"en": {"qa_f1": ci}}, "per_bucket": {"b1": {"qa_f1": dict(ci)}}}


def boot(system, reps):
    return {"format": "polyalign.bootstrap.v1", "system": system, **BOOT, "replicates": {"en": {"qa_f1": reps}}}


def test_points_are_seed_means_and_other_intervals_are_dropped():
    out = mean_over_seeds([metrics("sft", 0.2, 0.0, 10), metrics("sft", 0.4, 0.3, 10)])
    assert out["headline"]["en"]["qa_f1"]["point"] == pytest.approx(0.3)
    assert out["per_bucket"]["b1"]["qa_f1"]["low"] is None and out["per_bucket"]["b1"]["qa_f1"]["high"] is None
    assert out["n_prompts"] == 10 and isinstance(out["n_prompts"], int)
    # undefined in one seed: undefined
    assert mean_over_seeds([metrics("sft", None, 0.0, 10), metrics("sft", 0.4, 0.0, 10)])["headline"]["en"]["qa_f1"]["point"] is None


def test_seeds_must_match():
    with pytest.raises(InputError, match="several systems"):
        mean_over_seeds([metrics("sft", 0.2, 0.0, 10), metrics("dpo", 0.2, 0.0, 10)])
    other = metrics("sft", 0.2, 0.0, 10)
    other["bootstrap"]["fingerprint"] = "g"
    with pytest.raises(InputError, match="fingerprint"):
        mean_over_seeds([metrics("sft", 0.2, 0.0, 10), other])


def test_replicates_average_per_draw_and_give_the_headline_interval():
    b = mean_bootstrap([boot("sft", [0.0, 1.0, 2.0, None]), boot("sft", [2.0, 3.0, 4.0, 5.0])])
    assert b["replicates"]["en"]["qa_f1"] == [1.0, 2.0, 3.0, None]
    m = headline_intervals(mean_over_seeds([metrics("sft", 0.2, 0.0, 10), metrics("sft", 0.4, 0.0, 10)]), b)
    ci = m["headline"]["en"]["qa_f1"]
    # finite seed-mean replicates 1, 2, 3; alpha 0.5: the 25 % and 75 % quantiles (linear)
    assert (ci["low"], ci["high"], ci["bootstrap_median"]) == (1.5, 2.5, 2.0)
    assert ci["n_finite"] == 3 and ci["n_resamples"] == 4 and ci["point"] == pytest.approx(0.3)
