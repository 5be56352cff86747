"""Hand-computed English examples for every feature in scope of English responses."""

import math

import numpy as np
import pytest

from polyalign.features.extract import extract_text_features
from polyalign.features.spec import feature_names
from polyalign.features.text_features import text_feature_dict


def check(values: dict, expected: dict):
    for name, want in expected.items():
        assert values[name] == pytest.approx(want, abs=1e-12), name


def test_hello_world_every_feature():
    # "Hello, world! How are you?": 26 chars; length tokens Hello , world ! How are you ? = 8;
    # words Hello world How are you = 5 (lengths 5 5 3 3 3); sentences "Hello, world!" and
    # "How are you?" (2 and 3 words); punctuation , ! ? ; letters 19, two upper-case.
    values = text_feature_dict("Hello, world! How are you?", "en")
    check(
        values,
        {
            "count_chars": 26,
            "count_tokens": 8,
            "count_words": 5,
            "count_sentences": 2,
            "count_paragraphs": 1,
            "count_newlines": 0,
            "count_digits": 0,
            "count_punct": 3,
            "count_non_ascii": 0,
            "len_word_mean": 3.8,
            "len_word_std": math.sqrt((2 * 1.2**2 + 3 * 0.8**2) / 5),
            "len_sentence_mean": 2.5,
            "len_sentence_std": 0.5,
            "len_sentence_max": 3,
            "lex_ttr": 1.0,
            "lex_root_ttr": 5 / math.sqrt(5),
            "lex_corrected_ttr": 5 / math.sqrt(10),
            "lex_hapax_ratio": 1.0,
            "lex_distinct_1": 1.0,
            "lex_distinct_2": 1.0,
            "lex_distinct_3": 1.0,
            "lex_entropy": math.log2(5),
            "lex_max_word_share": 0.2,
            "lex_repeated_sentence_ratio": 0.0,
            "lex_char_run_ratio": 0.0,
            "punct_question_ascii": 1,
            "punct_exclaim_ascii": 1,
            "punct_comma_ascii": 1,
            "punct_semicolon_ascii": 0,
            "punct_colon_ascii": 0,
            "punct_period_ascii": 0,
            "punct_ellipsis": 0,
            "punct_quote_ascii": 0,
            "punct_quote_curly": 0,
            "punct_bracket_ascii": 0,
            "punct_density": 3 / 26,
            "punct_question_sentence_ratio": 0.5,
            "punct_exclaim_sentence_ratio": 0.5,
            "fmt_bullets": 0,
            "fmt_enumerations": 0,
            "fmt_code_fences": 0,
            "fmt_urls": 0,
            "fmt_headings": 0,
            "fmt_emphasis": 0,
            "case_upper_ratio": 2 / 19,
            "case_capitalized_word_ratio": 0.4,
            "case_all_caps_word_ratio": 0.0,
            "case_sentence_initial_cap_ratio": 1.0,
        },
    )


def test_matrix_row_has_nan_exactly_out_of_scope():
    row = extract_text_features(["Hello, world! How are you?"], ["en"])[0]
    names = feature_names()
    fullwidth = {n for n in names if n.endswith("_fw") or n in ("punct_enum_comma", "punct_quote_cjk")}
    assert {n for n, v in zip(names, row) if np.isnan(v)} == fullwidth
    assert row.dtype == np.float64


def test_punctuation_profile():
    text = "He said \"hi\"; I don't know: (maybe) [yes]... Wait?! ‘Really’ it's 3.5 ok."
    values = text_feature_dict(text, "en")
    # Sentences: 'He said ... [yes]...' | 'Wait?!' | '‘Really’ it's 3.5 ok.' ("3.5" does not
    # split). Apostrophes in don't / it's are not quotes; the dot of 3.5 is a lone period.
    # Punctuation chars: "" ; ' : () [] ... ? ! ‘’ ' . . = 19.
    check(
        values,
        {
            "count_sentences": 3,
            "punct_question_ascii": 1,
            "punct_exclaim_ascii": 1,
            "punct_comma_ascii": 0,
            "punct_semicolon_ascii": 1,
            "punct_colon_ascii": 1,
            "punct_bracket_ascii": 4,
            "punct_ellipsis": 1,
            "punct_period_ascii": 2,
            "punct_quote_ascii": 2,
            "punct_quote_curly": 2,
            "count_punct": 19,
            "count_digits": 2,
            "count_non_ascii": 2,
            "punct_density": 19 / len(text),
            "punct_question_sentence_ratio": 1 / 3,
            "punct_exclaim_sentence_ratio": 1 / 3,
        },
    )


def test_format_features():
    text = (
        "# Title\n\n- first item\n* second **bold**\n1. step one\n2) step two\n"
        "See https://example.com/a?b=1 and www.test.org.\n```\ncode\n```"
    )
    values = text_feature_dict(text, "en")
    check(
        values,
        {
            "fmt_headings": 1,
            "fmt_bullets": 2,
            "fmt_enumerations": 2,
            "fmt_urls": 2,
            "fmt_code_fences": 2,
            "fmt_emphasis": 1,
            "count_paragraphs": 2,
            "count_newlines": 9,
        },
    )


def test_decimal_is_not_an_enumeration_and_underline_emphasis():
    values = text_feature_dict("3.14 is pi\n__really__", "en")
    check(values, {"fmt_enumerations": 0, "fmt_emphasis": 1, "punct_period_ascii": 1})


def test_casing():
    # letters 37 (upper: NASA 4 + GREAT 5 + P 1); words i think NASA is GREAT Paris is nice 3
    # cats sleep = 11; sentences start with i / P / c (the digit is skipped).
    values = text_feature_dict("i think NASA is GREAT. Paris is nice.\n3 cats sleep", "en")
    check(
        values,
        {
            "count_words": 11,
            "count_sentences": 3,
            "case_upper_ratio": 10 / 37,
            "case_capitalized_word_ratio": 3 / 11,
            "case_all_caps_word_ratio": 2 / 11,
            "case_sentence_initial_cap_ratio": 1 / 3,
        },
    )


def test_lexical_and_lengths_with_repetition():
    text = "the cat the cat the dog. the cat the cat the dog. Sooo good"
    values = text_feature_dict(text, "en")
    # 14 words: the x6, cat x4, dog x2, sooo, good; 13 bigrams with 6 distinct, 12 trigrams
    # with 7 distinct; the second sentence repeats the first; "ooo" is a 3-letter run.
    counts = [6, 4, 2, 1, 1]
    check(
        values,
        {
            "count_chars": 59,
            "count_words": 14,
            "lex_ttr": 5 / 14,
            "lex_root_ttr": 5 / math.sqrt(14),
            "lex_corrected_ttr": 5 / math.sqrt(28),
            "lex_hapax_ratio": 2 / 5,
            "lex_distinct_1": 5 / 14,
            "lex_distinct_2": 6 / 13,
            "lex_distinct_3": 7 / 12,
            "lex_entropy": -sum(c / 14 * math.log2(c / 14) for c in counts),
            "lex_max_word_share": 6 / 14,
            "lex_repeated_sentence_ratio": 1 / 3,
            "lex_char_run_ratio": 3 / 59,
            "len_word_mean": 44 / 14,
            "len_word_std": math.sqrt(84 / 49 / 14),
            "len_sentence_mean": 14 / 3,
            "len_sentence_std": math.sqrt(96 / 27),
            "len_sentence_max": 6,
        },
    )


def test_text_without_words_uses_documented_empty_values():
    values = text_feature_dict("!!! ...", "en")
    check(
        values,
        {
            "count_words": 0,
            "count_sentences": 0,
            "lex_ttr": 1.0,
            "lex_distinct_2": 1.0,
            "lex_hapax_ratio": 1.0,
            "lex_root_ttr": 0.0,
            "lex_entropy": 0.0,
            "lex_max_word_share": 0.0,
            "len_word_mean": 0.0,
            "len_sentence_max": 0,
            "punct_question_sentence_ratio": 0.0,
            "case_upper_ratio": 0.0,
            "case_sentence_initial_cap_ratio": 0.0,
            "punct_ellipsis": 1,
            "punct_exclaim_ascii": 3,
        },
    )


def test_normalization_is_applied():
    raw = extract_text_features(["Hello,   world!\r\n\r\n\r\nBye"], ["en"])
    clean = extract_text_features(["Hello, world!\n\nBye"], ["en"])
    np.testing.assert_array_equal(raw, clean)
