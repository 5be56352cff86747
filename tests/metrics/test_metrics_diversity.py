"""distinct-n and Self-BLEU-4 with the self-written BLEU (hand-computed cases)."""

import math

import pytest

from polyalign.metrics.diversity import distinct_n, diversity_scores, self_bleu, sentence_bleu


def test_distinct_pooled_without_crossing_outputs():
    outs = ["a b a", "b c"]
    # unigrams a b a b c: 3 unique / 5
    assert distinct_n(outs, 1) == pytest.approx(0.6)
    # bigrams (a b) (b a) (b c): 3 / 3 -- (a b) across the boundary is never formed
    assert distinct_n(outs, 2) == pytest.approx(1.0)
    assert distinct_n(outs, 3) == pytest.approx(1.0)
    # zh: characters 你 好 你 好 -> 2/4; bigrams 你好 好你 你好 -> 2/3
    assert distinct_n(["你好你好"], 1) == pytest.approx(0.5)
    assert distinct_n(["你好你好"], 2) == pytest.approx(2 / 3)
    assert math.isnan(distinct_n(["a"], 2))


def test_bleu_hand_example():
    hyp = "the cat sat on the mat".split()
    ref = "the cat is on the mat".split()
    # p1 = 5/6 (the x2, cat, on, mat), p2 = 3/5 (the cat, on the, the mat), p3 = 1/4 (on the mat),
    # p4 = 0 matches of 3 -> method 1: 0.1/3; BP = 1 (c = r = 6)
    # BLEU = (5/6 * 3/5 * 1/4 * 0.1/3) ** 0.25 = 0.0041667 ** 0.25 = 0.25407
    expected = (5 / 6 * 3 / 5 * 1 / 4 * 0.1 / 3) ** 0.25
    assert sentence_bleu(hyp, [ref]) == pytest.approx(expected)
    assert expected == pytest.approx(0.25407, abs=1e-5)


def test_bleu_brevity_and_short_hypothesis():
    # hyp [cat] vs ref [the cat sat]: p1 = 1, p2..p4 have no n-grams -> 0.1/1 each;
    # geo = 0.1 ** 0.75 = 0.177828; BP = exp(1 - 3/1) = 0.135335; BLEU = 0.024067
    assert sentence_bleu(["cat"], [["the", "cat", "sat"]]) == pytest.approx(math.exp(-2) * 0.1**0.75)
    # closest reference length wins (4 over 9 for a hypothesis of 4 tokens): BP = 1
    hyp = "a b c d".split()
    assert sentence_bleu(hyp, [hyp, "a b c d e f g h i".split()]) == pytest.approx(1.0)
    assert sentence_bleu(["x"], [["y"]]) == 0.0
    assert sentence_bleu([], [["y"]]) == 0.0


def test_self_bleu_invariants():
    # identical outputs -> every hypothesis matches its references exactly
    assert self_bleu(["the cat sat on the mat"] * 5)["self_bleu"] == pytest.approx(1.0)
    # a hypothesis is never its own reference: disjoint single-token outputs score 0
    assert self_bleu(["a", "b", "c"])["self_bleu"] == 0.0
    outs = [f"w{i} w{i % 3} common words here" for i in range(30)]
    r1 = self_bleu(outs, n_samples=10, n_references=5, seed=42)
    r2 = self_bleu(outs, n_samples=10, n_references=5, seed=42)
    assert r1 == r2 and r1["n_hypotheses"] == 10 and r1["n_references"] == 5
    assert 0 < r1["self_bleu"] < 1
    assert self_bleu(outs)["n_references"] == 29  # capped at len - 1
    assert math.isnan(self_bleu(["only one"])["self_bleu"])


def test_diversity_scores_keys():
    out = diversity_scores(["a b", "a c"])
    assert out["distinct_1"] == pytest.approx(3 / 4)
    assert set(out) >= {"distinct_1", "distinct_2", "distinct_3", "self_bleu_4", "seed"}
