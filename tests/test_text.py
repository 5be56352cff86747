import pytest

from polyalign.text import count_length_tokens, length_bin, length_tokens, normalize_text


def test_normalize_collapses_whitespace_and_blank_lines_without_folding_case():
    raw = "  Hello\t\tWorld  \r\n\r\n\r\n\nSecond   LINE\rthird\u3000 x  "
    assert normalize_text(raw) == "Hello World\n\nSecond LINE\nthird x"


def test_normalize_keeps_fullwidth_characters():
    # No NFKC: the full-width comma and question mark stay as they are.
    assert normalize_text(" 你好，世界？ ") == "你好，世界？"


def test_length_tokens_english():
    # don't | 42 | apples | , | they're | fine | ! -> 7
    assert length_tokens("Don't 42 apples, they're fine!") == [
        "Don't",
        "42",
        "apples",
        ",",
        "they're",
        "fine",
        "!",
    ]


def test_length_tokens_chinese_counts_each_ideograph_and_punctuation():
    # 你 好 ， 世 界 ！ 2 0 2 6 -> ideographs 4, punctuation 2, digit run "2026" 1 -> 7
    assert count_length_tokens("你好，世界！2026") == 7


def test_length_tokens_mixed():
    assert length_tokens("用Python写") == ["用", "Python", "写"]


@pytest.mark.parametrize(
    "n,expected",
    [(0, "short"), (10, "short"), (11, "medium"), (25, "medium"), (26, "long"), (40, "long"), (41, "xlong")],
)
def test_length_bin_thresholds_are_inclusive_upper_bounds(n, expected):
    assert length_bin(n, [10, 25, 40]) == expected


def test_length_bin_paper_thresholds():
    assert [length_bin(n, [40, 120, 240]) for n in (40, 41, 120, 121, 240, 241)] == [
        "short",
        "medium",
        "medium",
        "long",
        "long",
        "xlong",
    ]


def test_comparison_form_drops_format_characters_and_folds_space_and_case():
    from polyalign.text import comparison_form

    assert comparison_form("\ufeffHel\u200blo,\u00a0\u00a0World\u2060\u200d ") == "hello, world"
    assert comparison_form("a \u200b b") == "a b"  # removing the zero-width space leaves two spaces
    assert comparison_form("第一\u3000行\n\n\n二") == "第一 行\n\n二"
    assert comparison_form("naïve") == "naïve"  # letters and accents are not format characters
