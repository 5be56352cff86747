"""EM / QA-F1 / ROUGE-L and the answer tokenization (hand-computed cases)."""

import math

import pytest

from polyalign.metrics.tokenize import answer_tokens, diversity_tokens, normalize_answer, tfidf_analyzer
from polyalign.metrics.utility import exact_match, qa_f1, rouge_l_f1, utility_scores


def test_normalize_answer_squad_rule():
    # lower-case, drop ASCII punctuation, drop articles, collapse whitespace
    assert normalize_answer("The  Cat, sat on A mat!", "en") == "cat sat on mat"
    # en keeps full-width punctuation (exact SQuAD); zh strips it too
    assert normalize_answer("是。", "en") == "是。"
    assert normalize_answer("是。", "zh") == "是"


def test_zh_tokenizations():
    text = "iPhone 15发布了！"
    assert answer_tokens(text, "zh", "char") == list("iphone15发布了")
    assert answer_tokens(text, "zh", "mixed") == ["iphone", "15", "发", "布", "了"]
    assert answer_tokens(text, "zh", "whitespace") == ["iphone", "15发布了"]
    with pytest.raises(ValueError):
        answer_tokens(text, "zh", "jieba")
    with pytest.raises(ValueError):
        answer_tokens(text, "fr")


def test_exact_match_after_normalization():
    assert exact_match("The cat sat on the mat.", "A cat sat on a mat", "en") == 1.0
    assert exact_match("cat", "dog", "en") == 0.0
    assert exact_match("北京。", "北 京", "zh") == 1.0  # whitespace dropped in char mode


def test_qa_f1_hand_case():
    # pred tokens [barack, obama, was, president], ref [obama]: P = 1/4, R = 1, F1 = 0.5/1.25 = 0.4
    assert qa_f1("Barack Obama was president", "Obama", "en") == pytest.approx(0.4)
    # max over references
    assert qa_f1("Barack Obama was president", ["Bush", "Obama"], "en") == pytest.approx(0.4)


def test_qa_f1_zh_char_vs_whitespace():
    # char: pred 5 chars, ref 7 chars, 5 shared: P = 1, R = 5/7, F1 = (10/7)/(12/7) = 5/6
    assert qa_f1("北京是首都", "北京是中国首都", "zh") == pytest.approx(5 / 6)
    # the authors' whitespace rule: one token each, no overlap
    assert qa_f1("北京是首都", "北京是中国首都", "zh", zh_tokenization="whitespace") == 0.0


def test_rouge_l_hand_cases():
    # LCS("one two three four", "one three two four") = 3: P = R = 3/4, F = 0.75 (bag F1 = 1)
    assert rouge_l_f1("one two three four", "one three two four", "en") == pytest.approx(0.75)
    assert qa_f1("one two three four", "one three two four", "en") == pytest.approx(1.0)
    # [police, killed, gunman] vs [gunman, was, killed, by, police]: LCS 1, P=1/3, R=1/5, F=0.25
    assert rouge_l_f1("police killed the gunman", "the gunman was killed by police", "en") == pytest.approx(
        0.25
    )
    # 北京是首都 vs 首都是北京 (punctuation dropped): LCS 2, P = R = 2/5
    assert rouge_l_f1("北京是首都。", "首都是北京", "zh") == pytest.approx(0.4)
    assert qa_f1("北京是首都。", "首都是北京", "zh") == pytest.approx(1.0)


@pytest.mark.parametrize("text,lang", [("Hello there, General Kenobi!", "en"), ("你好，世界。", "zh")])
def test_identical_strings_score_one(text, lang):
    assert exact_match(text, text, lang) == 1.0
    assert qa_f1(text, text, lang) == 1.0
    assert rouge_l_f1(text, text, lang) == 1.0


def test_empty_answers():
    # SQuAD v2 convention: both empty -> 1, one empty -> 0
    assert qa_f1("the", "", "en") == 1.0  # "the" normalizes to nothing
    assert qa_f1("", "cat", "en") == 0.0
    assert rouge_l_f1("", "cat", "en") == 0.0


def test_utility_scores_records_tokenization_and_languages():
    out = utility_scores(["cat", "北京是首都", "dog"], ["cat", "北京是中国首都", "cat"], ["en", "zh", "en"])
    assert out["zh_tokenization"] == "char"
    assert out["qa_f1"] == pytest.approx((1 + 5 / 6 + 0) / 3)
    assert out["per_language"]["en"] == {"n": 2, "em": 0.5, "qa_f1": 0.5, "rouge_l": 0.5}
    assert out["per_language"]["zh"]["qa_f1"] == pytest.approx(5 / 6)
    with pytest.raises(ValueError):
        utility_scores(["a"], ["a", "b"], ["en"])
    assert math.isnan(utility_scores([], [], [])["qa_f1"])


def test_diversity_and_tfidf_tokens():
    assert diversity_tokens("Hello, world! It's 2024.") == ["hello", "world", "it's", "2024"]
    assert diversity_tokens("你好，Bob！") == ["你", "好", "bob"]
    assert tfidf_analyzer("Hi 你好世界") == ["hi", "你", "好", "世", "界", "你好", "好世", "世界"]
