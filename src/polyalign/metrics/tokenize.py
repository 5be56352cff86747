"""Tokenizers used by the metrics (answer normalization, diversity tokens, TF-IDF analyzer).

Every metric that splits text into tokens goes through this module, so the choices are made in
one place and documented in docs/metrics.md.
"""

from __future__ import annotations

import re
import string
import unicodedata

from polyalign.config import schema_default
from polyalign.text import CJK_RANGES

ZH_TOKENIZATIONS = ("char", "mixed", "whitespace")
# The keyword default of the metrics: the config schema's (the one place it is written).
ZH_TOKENIZATION = schema_default("evaluation", "zh_tokenization")

_ASCII_PUNCT = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
# A CJK ideograph, or a run of word characters that are not CJK and not "_" (ASCII/Latin words,
# digit runs, other alphabets) with an optional 'suffix.
_WORD_OR_CJK = re.compile(rf"[{CJK_RANGES}]|[^\W_{CJK_RANGES}]+(?:'[^\W_{CJK_RANGES}]+)?")
_CJK_RUN = re.compile(rf"[{CJK_RANGES}]+")
_NON_CJK_WORD = re.compile(rf"[^\W_{CJK_RANGES}]+(?:'[^\W_{CJK_RANGES}]+)?")


def _is_punctuation(ch: str, unicode_punct: bool) -> bool:
    if ch in _ASCII_PUNCT:
        return True
    return unicode_punct and unicodedata.category(ch).startswith("P")


def normalize_answer(text: str, language: str) -> str:
    """SQuAD answer normalization: lower-case, drop punctuation and articles, collapse spaces.

    en: exactly the SQuAD rule (ASCII punctuation only). zh: additionally drops Unicode
    punctuation (full-width ，。？！「」…), which would otherwise be character tokens.
    """
    unicode_punct = language == "zh"
    text = text.lower()
    text = "".join(ch for ch in text if not _is_punctuation(ch, unicode_punct))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def answer_tokens(text: str, language: str, zh_tokenization: str = ZH_TOKENIZATION) -> list[str]:
    """Tokens of a normalized answer for EM / QA-F1 / ROUGE-L.

    en: whitespace tokens of the normalized answer (SQuAD).
    zh, ``char``: every non-whitespace character of the normalized answer is one token.
    zh, ``mixed``: each CJK ideograph is one token, other runs (Latin words, digits) stay whole.
    zh, ``whitespace``: the authors' rule (whitespace tokens; F1 ≈ EM for unsegmented Chinese).
    """
    if zh_tokenization not in ZH_TOKENIZATIONS:
        raise ValueError(f"zh_tokenization must be one of {ZH_TOKENIZATIONS}, got {zh_tokenization!r}")
    if language not in ("en", "zh"):
        raise ValueError(f"language must be 'en' or 'zh', got {language!r}")
    norm = normalize_answer(text, language)
    if language == "en" or zh_tokenization == "whitespace":
        return norm.split()
    if zh_tokenization == "char":
        return [ch for ch in norm if not ch.isspace()]
    tokens: list[str] = []
    for piece in norm.split():
        pos = 0
        for m in _CJK_RUN.finditer(piece):
            if m.start() > pos:
                tokens.append(piece[pos : m.start()])
            tokens.extend(m.group())
            pos = m.end()
        if pos < len(piece):
            tokens.append(piece[pos:])
    return tokens


def diversity_tokens(text: str) -> list[str]:
    """Tokens for distinct-n and Self-BLEU: lower-cased words, one token per CJK ideograph.

    English gives regex words (letters/digits with an optional 'suffix), Chinese gives
    characters, mixed text gives both. Punctuation and whitespace are not tokens.
    """
    return _WORD_OR_CJK.findall(text.lower())


def tfidf_analyzer(text: str) -> list[str]:
    """Analyzer for the TDM TF-IDF: lower-cased non-CJK words plus CJK character 1- and 2-grams.

    Character uni+bigrams are the standard segmentation-free representation of Chinese for
    retrieval; they need no dictionary and handle mixed-script text.
    """
    text = text.lower()
    terms = _NON_CJK_WORD.findall(text)
    for run in _CJK_RUN.findall(text):
        terms.extend(run)
        terms.extend(run[i : i + 2] for i in range(len(run) - 1))
    return terms
