"""Per-response text features, one function per group (docs/method.md §3; definitions in
docs/features.md). Every function returns a dict name -> float for one normalized, non-empty
response; `text_feature_row` assembles them in registry order with NaN out of scope.

Ratios over an empty set (no words, no sentences) take a fixed documented value instead of
NaN: diversity ratios (TTR, distinct-n, hapax) 1.0 (nothing was repeated), everything else 0.0.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections import Counter

from ..text import count_length_tokens
from .segment import Sentence, sentences, words_with_offsets
from .spec import TEXT_FEATURES


def _punctuation_class() -> re.Pattern:
    # Every code point of a Unicode punctuation category (Pc Pd Ps Pe Pi Pf Po); symbols (S*)
    # such as $ + = are not punctuation.
    chars = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)).startswith("P")]
    return re.compile("[" + re.escape("".join(chars)) + "]")


PUNCT = _punctuation_class()
DIGIT = re.compile(r"[0-9０-９]")
PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n")
LETTER_RUN = re.compile(r"([^\W\d_])\1{2,}")

# An apostrophe (letter on both sides) is not a quote.
QUOTE_ASCII = re.compile(r"\"|(?<![^\W_])'|'(?![^\W_])")
QUOTE_CURLY = re.compile(r"[“”]|(?<![^\W_])[‘’]|[‘’](?![^\W_])")
ELLIPSIS = re.compile(r"\.{2,}|…+")
LONE_PERIOD = re.compile(r"(?<!\.)\.(?!\.)")
CHAR_CLASSES = {
    "punct_question_ascii": "?",
    "punct_exclaim_ascii": "!",
    "punct_comma_ascii": ",",
    "punct_semicolon_ascii": ";",
    "punct_colon_ascii": ":",
    "punct_bracket_ascii": "()[]{}",
    "punct_question_fw": "？",
    "punct_exclaim_fw": "！",
    "punct_comma_fw": "，",
    "punct_semicolon_fw": "；",
    "punct_colon_fw": "：",
    "punct_period_fw": "。",
    "punct_enum_comma": "、",
    "punct_quote_cjk": "「」『』",
    "punct_bracket_fw": "（）【】《》〈〉〔〕［］｛｝",
}

BULLET = re.compile(r"^[^\S\n]*[-*•◦▪‣·][^\S\n]+\S", re.M)
ENUMERATION = re.compile(
    r"^[^\S\n]*(?:\d{1,3}[.．)）、](?!\d)|[(（]\d{1,3}[)）]|[一二三四五六七八九十]{1,3}、)", re.M
)
CODE_FENCE = re.compile(r"^[^\S\n]*(?:```|~~~)", re.M)
URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'）】]+", re.I)
HEADING = re.compile(r"^[^\S\n]*#{1,6}[^\S\n]+\S", re.M)
EMPHASIS = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
ASCII_UPPER = re.compile(r"[A-Z]")
ASCII_LETTER = re.compile(r"[A-Za-z]")
FIRST_LETTER = re.compile(r"[^\W\d_]")


def _ratio(num: float, den: float, empty: float = 0.0) -> float:
    return num / den if den else empty


def _mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and population std; (0, 0) for an empty list."""
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / len(values)
    return mean, math.sqrt(var)


def _words_per_sentence(word_starts: list[int], sents: list[Sentence]) -> list[int]:
    counts = [0] * len(sents)
    j = 0
    for start in word_starts:  # both sorted by offset
        while j < len(sents) and start >= sents[j].end:
            j += 1
        if j < len(sents) and start >= sents[j].start:
            counts[j] += 1
    return counts


def count_features(text: str, words: list[str], sents: list[Sentence]) -> dict:
    n_punct = len(PUNCT.findall(text))
    return {
        "count_chars": len(text),
        "count_tokens": count_length_tokens(text),
        "count_words": len(words),
        "count_sentences": len(sents),
        "count_paragraphs": sum(1 for p in PARAGRAPH_BREAK.split(text) if p.strip()),
        "count_newlines": text.count("\n"),
        "count_digits": len(DIGIT.findall(text)),
        "count_punct": n_punct,
        "count_non_ascii": len(text) - len(text.encode("ascii", "ignore")),
    }


def length_features(words: list[str], sentence_lengths: list[int]) -> dict:
    word_mean, word_std = _mean_std([len(w) for w in words])
    sent_mean, sent_std = _mean_std(sentence_lengths)
    return {
        "len_word_mean": word_mean,
        "len_word_std": word_std,
        "len_sentence_mean": sent_mean,
        "len_sentence_std": sent_std,
        "len_sentence_max": max(sentence_lengths, default=0),
    }


def _distinct(tokens: list[str], n: int) -> float:
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return _ratio(len(set(grams)), len(grams), empty=1.0)


def lexical_features(text: str, words: list[str], sents: list[Sentence]) -> dict:
    folded = [w.lower() for w in words]
    n = len(folded)
    freq = Counter(folded)
    v = len(freq)
    entropy = -sum((c / n) * math.log2(c / n) for c in freq.values()) if n else 0.0
    seen, repeated = set(), 0
    for s in sents:
        key = text[s.start : s.end].strip().lower()
        repeated += key in seen
        seen.add(key)
    run_chars = sum(len(m.group()) for m in LETTER_RUN.finditer(text))
    return {
        "lex_ttr": _ratio(v, n, empty=1.0),
        "lex_root_ttr": _ratio(v, math.sqrt(n)),
        "lex_corrected_ttr": _ratio(v, math.sqrt(2 * n)),
        "lex_hapax_ratio": _ratio(sum(1 for c in freq.values() if c == 1), v, empty=1.0),
        "lex_distinct_1": _distinct(folded, 1),
        "lex_distinct_2": _distinct(folded, 2),
        "lex_distinct_3": _distinct(folded, 3),
        "lex_entropy": entropy + 0.0,  # + 0.0 turns -0.0 into 0.0
        "lex_max_word_share": _ratio(max(freq.values(), default=0), n),
        "lex_repeated_sentence_ratio": _ratio(repeated, len(sents)),
        "lex_char_run_ratio": _ratio(run_chars, len(text)),
    }


def punctuation_features(text: str, sents: list[Sentence], n_punct: int) -> dict:
    out = {name: sum(text.count(ch) for ch in chars) for name, chars in CHAR_CLASSES.items()}
    out.update(
        {
            "punct_period_ascii": len(LONE_PERIOD.findall(text)),
            "punct_ellipsis": len(ELLIPSIS.findall(text)),
            "punct_quote_ascii": len(QUOTE_ASCII.findall(text)),
            "punct_quote_curly": len(QUOTE_CURLY.findall(text)),
            "punct_density": _ratio(n_punct, len(text)),
            "punct_question_sentence_ratio": _ratio(sum(s.is_question for s in sents), len(sents)),
            "punct_exclaim_sentence_ratio": _ratio(sum(s.is_exclamation for s in sents), len(sents)),
        }
    )
    return out


def format_features(text: str) -> dict:
    return {
        "fmt_bullets": len(BULLET.findall(text)),
        "fmt_enumerations": len(ENUMERATION.findall(text)),
        "fmt_code_fences": len(CODE_FENCE.findall(text)),
        "fmt_urls": len(URL.findall(text)),
        "fmt_headings": len(HEADING.findall(text)),
        "fmt_emphasis": len(EMPHASIS.findall(text)),
    }


def casing_features(text: str, words: list[str], sents: list[Sentence]) -> dict:
    """English only. Sentence-initial capitalisation looks at the first letter of each
    sentence that has one (a sentence starting with a digit is judged by its first letter)."""
    firsts = [FIRST_LETTER.search(text, s.start, s.end) for s in sents]
    firsts = [m.group() for m in firsts if m is not None]
    return {
        "case_upper_ratio": _ratio(len(ASCII_UPPER.findall(text)), len(ASCII_LETTER.findall(text))),
        "case_capitalized_word_ratio": _ratio(sum(w[0].isupper() for w in words), len(words)),
        "case_all_caps_word_ratio": _ratio(sum(len(w) >= 2 and w.isupper() for w in words), len(words)),
        "case_sentence_initial_cap_ratio": _ratio(sum(c.isupper() for c in firsts), len(firsts)),
    }


def text_feature_dict(text: str, language: str) -> dict:
    """All in-scope text features of one normalized, non-empty response."""
    words, starts = words_with_offsets(text, language)
    sents = sentences(text)
    out = count_features(text, words, sents)
    out.update(length_features(words, _words_per_sentence(starts, sents)))
    out.update(lexical_features(text, words, sents))
    out.update(punctuation_features(text, sents, out["count_punct"]))
    out.update(format_features(text))
    if language == "en":
        out.update(casing_features(text, words, sents))
    return out


def text_feature_row(text: str, language: str) -> list[float]:
    values = text_feature_dict(text, language)
    return [float(values[s.name]) if s.applies_to(language) else math.nan for s in TEXT_FEATURES]
