"""Trivial baselines (polyalign.baselines): the constant answer's rule, the donors' buckets, the
seeded draws, and their QA-F1 through the evaluation's own utility metric, by hand."""

import pytest

from polyalign import baselines
from polyalign.evaluation import baseline_answers
from polyalign.io import InputError
from polyalign.metrics.utility import utility_scores
from polyalign.systems import label


def rec(i, answer, bucket="en|single|dialogue|short", lang="en"):
    return {"id": f"r{i}", "human_answer": answer, "bucket_id": bucket, "language": lang}


def test_constant_answer_maximises_mean_token_f1_among_frequent_train_answers():
    train = [rec(0, "hi"), rec(1, "hi"), rec(2, "i am fine"), rec(3, "i am good"), rec(4, "i am here")]
    train += [rec(5, "我是机器人", lang="zh"), rec(6, "我是人", lang="zh"), rec(7, "好", lang="zh")]
    chosen = baseline_answers.constant_answers(train, "char")
    # en: "hi" scores 2/5 = 0.4; "i am fine" scores (1 + 2/3 + 2/3) / 5 = 0.467 and wins although rarer
    assert chosen["en"]["answer"] == "i am fine"
    assert chosen["en"]["mean_qa_f1"] == pytest.approx(7 / 15)
    # zh (characters): 我是机器人 and 我是人 both score (1 + 0.75) / 3; tie -> the earlier candidate
    # (same count, the shorter first)
    assert chosen["zh"] == {"answer": "我是人", "mean_qa_f1": pytest.approx(1.75 / 3), "count": 1}
    # only the most frequent candidate considered: "hi"
    assert baseline_answers.constant_answers(train, "char", n_candidates=1)["en"]["answer"] == "hi"


def test_constant_baseline_is_one_reply_per_language_and_scores_its_token_f1():
    train = [rec(0, "i think so"), rec(1, "i think so"), rec(2, "no"), rec(3, "好的", lang="zh")]
    test = [rec(10, "i think not"), rec(11, "so so"), rec(12, "好", lang="zh")]
    rows, report = baseline_answers.baseline_generations(
        "constant", test, train, seed=None, zh_tokenization="char"
    )
    assert [r["answer"] for r in rows] == ["i think so", "i think so", "好的"]
    assert [r["id"] for r in rows] == ["r10", "r11", "r12"] and report["answers"]["en"]["count"] == 2
    # QA-F1 by hand: [i think so] vs [i think not]: 2 shared of 3 and 3 -> 2/3;
    # vs [so so]: 1 shared, P = 1/3, R = 1/2 -> 0.4; 好的 vs 好: P = 1/2, R = 1 -> 2/3
    scores = utility_scores(
        [r["answer"] for r in rows], [t["human_answer"] for t in test], ["en", "en", "zh"], "char"
    )
    assert scores["per_language"]["en"]["qa_f1"] == pytest.approx((2 / 3 + 0.4) / 2)
    assert scores["per_language"]["zh"]["qa_f1"] == pytest.approx(2 / 3)


def test_other_test_prompt_donors_share_the_bucket_and_are_never_the_prompt_itself():
    a, b = "en|single|dialogue|short", "en|single|dialogue|long"
    test = [rec(1, "one", a), rec(2, "two", a), rec(3, "three", b), rec(4, "", a)]
    for seed in range(5):
        rows, report = baseline_answers.baseline_generations("human_test_other", test, [], seed)
        donors = [r["donor"] for r in rows]
        assert donors[0] == "r2" and donors[1] == "r1"  # the only other non-empty answer of bucket a
        assert donors[2] in ("r1", "r2")  # bucket b has no other prompt: same language
        assert donors[3] in ("r1", "r2")  # r4's own answer is empty, never a donor
        assert report["language_fallback"] == 1
        assert [r["answer"] for r in rows][:2] == ["two", "one"]


def test_train_donors_share_the_bucket_and_the_draw_follows_the_run_seed():
    a, b = "en|single|dialogue|short", "zh|single|dialogue|short"
    train = [rec(i, f"answer {i}", a) for i in range(20)] + [rec(99, "中文", b, "zh")]
    test = [rec(100 + i, "x", a) for i in range(30)] + [rec(200, "y", b, "zh")]
    rows0, rep0 = baseline_answers.baseline_generations("human_train_bucket", test, train, 0)
    rows0b, _ = baseline_answers.baseline_generations("human_train_bucket", test, train, 0)
    rows1, _ = baseline_answers.baseline_generations("human_train_bucket", test, train, 1)
    assert rows0 == rows0b and rows0 != rows1
    assert all(r["donor"] in {f"r{i}" for i in range(20)} for r in rows0[:30])
    assert rows0[30]["donor"] == "r99" and rep0["language_fallback"] == 0
    with pytest.raises(ValueError, match="drawn per run seed"):
        baseline_answers.baseline_generations("human_train_bucket", test, train, None)
    with pytest.raises(InputError, match="no donor"):
        baseline_answers.baseline_generations(
            "human_train_bucket", [rec(300, "x", "fr|single|dialogue|short", "fr")], train, 0
        )


def test_the_floor_is_taken_from_the_two_prompt_blind_human_baselines():
    assert baselines.FLOOR_BASELINES == ("human_train_bucket", "human_test_other")
    assert baselines.SEED_INVARIANT == ("constant",)
    assert label("constant") == "Constant answer per language"
