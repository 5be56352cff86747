"""NUF hypervolume and Aggregate: hand cases, invariants and the paper's published numbers."""

import math

import pytest

from polyalign.metrics.frontier import (
    aggregate_score,
    bucket_naturalness,
    hypervolume,
    naturalness_utility_frontier,
    pareto_frontier,
)


def test_single_point_hv_is_u_times_n():
    assert hypervolume([(0.7, 0.4)]) == pytest.approx(0.28)
    assert hypervolume([(0.0, 0.4)]) == 0.0
    assert hypervolume([]) == 0.0


def test_frontier_and_hv_hand_case():
    pts = {"A": (0.8, 0.3), "B": (0.5, 0.6), "C": (0.4, 0.5), "D": (0.2, 0.9)}
    # C is dominated by B. Ascending: D, B, A: HV = .2*.9 + (.5-.2)*.6 + (.8-.5)*.3 = .45
    assert pareto_frontier(pts) == ["A", "B", "D"]
    assert hypervolume(list(pts.values())) == pytest.approx(0.45)


def test_frontier_ties():
    # equal u: only the larger n survives; exact duplicates: first by bucket id
    pts = {"B": (0.5, 0.6), "E": (0.5, 0.4), "X": (0.3, 0.7), "W": (0.3, 0.7)}
    assert pareto_frontier(pts) == ["B", "W"]
    # HV = .3*.7 + .2*.6 = .33
    assert hypervolume(list(pts.values())) == pytest.approx(0.33)


def test_bucket_naturalness():
    # 1/(1+1) = .5 and .8: sqrt(.4) = 0.632456
    assert bucket_naturalness(1.0, 0.8) == pytest.approx(math.sqrt(0.4))
    assert bucket_naturalness(-3.0, 1.0) == 1.0  # BNG clipped at 0
    assert bucket_naturalness(1.0, 0.0) == 0.0  # a zero component gives n = 0
    assert bucket_naturalness(1.0, 0.8, 0.5) == pytest.approx(0.2 ** (1 / 3))  # .5*.8*.5


def test_nuf_from_bucket_metrics():
    qa = {"a": 0.8, "b": 0.5, "c": 0.9, "d": 1.4}
    bng = {"a": 1.0, "b": 0.0, "c": 0.5, "d": 0.0}
    cm = {"a": 0.8, "b": 0.36, "c": 0.0, "d": float("nan")}
    out = naturalness_utility_frontier(qa, bng, cm)
    # a: u .8, n sqrt(.5*.8) = .632456; b: u .5, n sqrt(1*.36) = .6; c: n = 0; d: left out
    assert out["left_out"] == ["d"]
    assert out["points"]["c"] == [0.9, 0.0]
    # frontier desc u: c (kept, n 0), a (n .632 beats 0), b (.6 < .632: dropped)
    assert out["frontier"] == ["c", "a"]
    assert out["hypervolume"] == pytest.approx(0.8 * math.sqrt(0.4))
    multi = naturalness_utility_frontier(qa, bng, cm, tdm={"a": 0.5})
    assert multi["n_buckets"] == 1 and multi["variant"] == "multi_turn"
    assert multi["hypervolume"] == pytest.approx(0.8 * (0.5 * 0.8 * 0.5) ** (1 / 3))


def test_aggregate_hand_cases():
    # (.5 * 1/(1+1) * .8 * .4) ** (1/4) = .08 ** .25 = 0.531829
    assert aggregate_score(0.5, 1.0, 0.8, 0.4)["aggregate"] == pytest.approx(0.08**0.25)
    # non-finite component left out: (.5 * .8 * .4) ** (1/3)
    assert aggregate_score(float("nan"), 1.0, 0.8, 0.4)["aggregate"] == pytest.approx(0.16 ** (1 / 3))
    assert math.isnan(aggregate_score(float("nan"), None, float("inf"), 0.4)["aggregate"])
    assert aggregate_score(0.5, 1.0, 0.0, 0.4)["aggregate"] == 0.0
    # clipping: QA-F1 1.2 -> 1, negative BNG -> 1
    assert aggregate_score(1.2, -1.0, 1.0, 1.0)["aggregate"] == 1.0


# Qwen2.5-1.5B rows of docs/method.md §10: (Aggregate, BNG-macro, G-MAUVE, NUF)
PUBLISHED = {
    ("en", "Full-SFT"): (0.371, 5.012, 0.947, 0.547),
    ("en", "DPO"): (0.527, 1.259, 0.847, 0.580),
    ("en", "Bucket-SFT"): (0.643, 0.427, 0.939, 0.585),
    ("en", "HDPO"): (0.639, 0.465, 0.846, 0.623),
    ("zh", "Full-SFT"): (0.529, 0.917, 0.918, 0.458),
    ("zh", "DPO"): (0.184, 16.056, 0.511, 0.163),
    ("zh", "Bucket-SFT"): (0.684, 0.346, 0.968, 0.636),
    ("zh", "HDPO"): (0.694, 0.375, 0.851, 0.832),
}


def implied_qa_f1(agg, bng_macro, mauve, nuf):
    """Invert Aggregate = (F1 * 1/(1+BNG) * MAUVE * NUF) ** (1/4) for F1."""
    return agg**4 * (1 + bng_macro) / (mauve * nuf)


def test_hdpo_en_implied_qa_f1():
    # 0.639^4 = 0.166730; 1/(1.465) * 0.846 * 0.623 = 0.359774 -> QA-F1 = 0.46343
    f1 = implied_qa_f1(*PUBLISHED[("en", "HDPO")])
    assert f1 == pytest.approx(0.4634, abs=5e-4)
    assert round(aggregate_score(f1, 0.465, 0.846, 0.623)["aggregate"], 3) == 0.639
    # the printed 3-decimal inputs pin F1 to a narrow interval (rounding of Aggregate)
    lo = implied_qa_f1(0.6385, 0.465, 0.846, 0.623)
    hi = implied_qa_f1(0.6395, 0.465, 0.846, 0.623)
    assert 0.459 < lo < f1 < hi < 0.467


@pytest.mark.parametrize("key", sorted(PUBLISHED))
def test_published_rows_are_consistent(key):
    agg, bng_macro, mauve, nuf = PUBLISHED[key]
    f1 = implied_qa_f1(agg, bng_macro, mauve, nuf)
    assert 0.0 < f1 < 1.0  # a QA-F1 that the formula can produce
    assert round(aggregate_score(f1, bng_macro, mauve, nuf)["aggregate"], 3) == agg
