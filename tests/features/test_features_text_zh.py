"""Hand-computed Chinese examples (jieba words checked by hand) for every feature in scope of
Chinese responses."""

import math

import numpy as np
import pytest

from polyalign.features.extract import extract_text_features
from polyalign.features.segment import sentences, words
from polyalign.features.spec import feature_names
from polyalign.features.text_features import text_feature_dict


def check(values: dict, expected: dict):
    for name, want in expected.items():
        assert values[name] == pytest.approx(want, abs=1e-12), name


def test_jieba_words_are_the_expected_segmentation():
    assert words("你好，世界！你好吗？", "zh") == ["你好", "世界", "你好", "吗"]
    assert words("我喜欢读书。我喜欢读书。哈哈哈", "zh") == [
        "我",
        "喜欢",
        "读书",
        "我",
        "喜欢",
        "读书",
        "哈哈哈",
    ]


def test_english_tokenizer_is_never_used_for_chinese():
    # The English regex would see one "word" per run of ideographs.
    assert words("我喜欢读书", "zh") == ["我", "喜欢", "读书"]
    assert words("我喜欢读书", "en") == ["我喜欢读书"]


def test_nihao_every_feature():
    # 10 chars, 10 length tokens (one per ideograph or mark); words 你好 世界 你好 吗
    # (lengths 2 2 2 1); sentences 你好，世界！ and 你好吗？ (2 words each); marks ，！？.
    values = text_feature_dict("你好，世界！你好吗？", "zh")
    check(
        values,
        {
            "count_chars": 10,
            "count_tokens": 10,
            "count_words": 4,
            "count_sentences": 2,
            "count_paragraphs": 1,
            "count_newlines": 0,
            "count_digits": 0,
            "count_punct": 3,
            "count_non_ascii": 10,
            "len_word_mean": 1.75,
            "len_word_std": math.sqrt((3 * 0.25**2 + 0.75**2) / 4),
            "len_sentence_mean": 2.0,
            "len_sentence_std": 0.0,
            "len_sentence_max": 2,
            "lex_ttr": 0.75,
            "lex_root_ttr": 1.5,
            "lex_corrected_ttr": 3 / math.sqrt(8),
            "lex_hapax_ratio": 2 / 3,
            "lex_distinct_1": 0.75,
            "lex_distinct_2": 1.0,
            "lex_distinct_3": 1.0,
            "lex_entropy": 1.5,
            "lex_max_word_share": 0.5,
            "lex_repeated_sentence_ratio": 0.0,
            "lex_char_run_ratio": 0.0,
            "punct_question_ascii": 0,
            "punct_exclaim_ascii": 0,
            "punct_comma_ascii": 0,
            "punct_semicolon_ascii": 0,
            "punct_colon_ascii": 0,
            "punct_period_ascii": 0,
            "punct_ellipsis": 0,
            "punct_quote_ascii": 0,
            "punct_quote_curly": 0,
            "punct_bracket_ascii": 0,
            "punct_density": 0.3,
            "punct_question_sentence_ratio": 0.5,
            "punct_exclaim_sentence_ratio": 0.5,
            "punct_question_fw": 1,
            "punct_exclaim_fw": 1,
            "punct_comma_fw": 1,
            "punct_semicolon_fw": 0,
            "punct_colon_fw": 0,
            "punct_period_fw": 0,
            "punct_enum_comma": 0,
            "punct_quote_cjk": 0,
            "punct_bracket_fw": 0,
            "fmt_bullets": 0,
            "fmt_enumerations": 0,
            "fmt_code_fences": 0,
            "fmt_urls": 0,
            "fmt_headings": 0,
            "fmt_emphasis": 0,
        },
    )


def test_matrix_row_has_nan_exactly_for_casing():
    row = extract_text_features(["你好，世界！你好吗？"], ["zh"])[0]
    nan = {n for n, v in zip(feature_names(), row) if np.isnan(v)}
    assert nan == {n for n in feature_names() if n.startswith("case_")}


def test_fullwidth_punctuation_profile():
    text = "他说：“你好”；我不知道……（真的）【注意】《红楼梦》、「引号」。好吗？！"
    values = text_feature_dict(text, "zh")
    # "……" is followed by "（", not a sentence end; sentences: up to 。 and 好吗？！.
    # 37 chars: 19 ideographs and 18 punctuation marks ：“”；…… （）【】《》、「」。？！
    check(
        values,
        {
            "count_chars": 37,
            "count_punct": 18,
            "punct_density": 18 / 37,
            "punct_colon_fw": 1,
            "punct_quote_curly": 2,
            "punct_semicolon_fw": 1,
            "punct_ellipsis": 1,
            "punct_bracket_fw": 6,
            "punct_enum_comma": 1,
            "punct_quote_cjk": 2,
            "punct_period_fw": 1,
            "punct_question_fw": 1,
            "punct_exclaim_fw": 1,
            "punct_comma_fw": 0,
            "count_sentences": 2,
            "punct_question_sentence_ratio": 0.5,
            "punct_exclaim_sentence_ratio": 0.5,
        },
    )
    assert [s.terminator for s in sentences(text)] == ["。", "？！"]


def test_format_digits_and_tokens():
    text = "1、第一步\n2、第二步\n- 注意：访问 https://example.cn 。\n\n一、总结３个要点"
    values = text_feature_dict(text, "zh")
    # Enumerations 1、 2、 一、; digits 1 2 and full-width ３. Length tokens per line:
    # 1 、第 一 步 = 5; 5; - 注 意 ： 访 问 https : / / example . cn 。 = 14; 一 、总 结 个 要 点 = 7
    # (the full-width digit is a word character, so the length-token rule skips it).
    check(
        values,
        {
            "fmt_enumerations": 3,
            "fmt_bullets": 1,
            "fmt_urls": 1,
            "count_digits": 3,
            "count_paragraphs": 2,
            "count_newlines": 4,
            "count_tokens": 31,
            "count_sentences": 4,
        },
    )


def test_lexical_and_lengths_with_repetition():
    # words 我 喜欢 读书 我 喜欢 读书 哈哈哈 (lengths 1 2 2 1 2 2 3); 6 bigrams / 4 distinct;
    # 5 trigrams / 4 distinct; sentence 2 repeats sentence 1; 哈哈哈 is a run (3 of 15 chars).
    values = text_feature_dict("我喜欢读书。我喜欢读书。哈哈哈", "zh")
    check(
        values,
        {
            "count_chars": 15,
            "count_words": 7,
            "count_sentences": 3,
            "lex_ttr": 4 / 7,
            "lex_root_ttr": 4 / math.sqrt(7),
            "lex_corrected_ttr": 4 / math.sqrt(14),
            "lex_hapax_ratio": 1 / 4,
            "lex_distinct_1": 4 / 7,
            "lex_distinct_2": 4 / 6,
            "lex_distinct_3": 4 / 5,
            "lex_entropy": -(3 * (2 / 7) * math.log2(2 / 7) + (1 / 7) * math.log2(1 / 7)),
            "lex_max_word_share": 2 / 7,
            "lex_repeated_sentence_ratio": 1 / 3,
            "lex_char_run_ratio": 0.2,
            "len_word_mean": 13 / 7,
            "len_word_std": math.sqrt(sum((x - 13 / 7) ** 2 for x in [1, 2, 2, 1, 2, 2, 3]) / 7),
            "len_sentence_mean": 7 / 3,
            "len_sentence_std": math.sqrt(24 / 27),
            "len_sentence_max": 3,
        },
    )


def test_mixed_script_chinese_keeps_english_word_whole():
    assert "Python" in words("我在学Python编程", "zh")
