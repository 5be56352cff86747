"""Utility metrics: exact match, QA-F1 (SQuAD token F1) and ROUGE-L F1 (docs/method.md §9)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from polyalign.metrics.tokenize import ZH_TOKENIZATION, answer_tokens

References = str | Sequence[str]


def _as_list(reference: References) -> list[str]:
    refs = [reference] if isinstance(reference, str) else list(reference)
    if not refs:
        raise ValueError("at least one reference answer is required")
    return refs


def _token_f1(pred: list[str], ref: list[str]) -> float:
    if not pred or not ref:
        # SQuAD v2 convention: two empty answers agree, one empty answer scores 0.
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred)
    recall = num_same / len(ref)
    return 2 * precision * recall / (precision + recall)


def _lcs_length(a: list[str], b: list[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for tok_a in a:
        cur = [0]
        for j, tok_b in enumerate(b, start=1):
            cur.append(prev[j - 1] + 1 if tok_a == tok_b else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def _rouge_l(pred: list[str], ref: list[str]) -> float:
    if not pred or not ref:
        return float(pred == ref)
    lcs = _lcs_length(pred, ref)
    if lcs == 0:
        return 0.0
    precision = lcs / len(pred)
    recall = lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def exact_match(
    prediction: str, reference: References, language: str, zh_tokenization: str = ZH_TOKENIZATION
) -> float:
    """1.0 if the normalized token sequences are equal (max over references), else 0.0."""
    pred = answer_tokens(prediction, language, zh_tokenization)
    return max(float(pred == answer_tokens(r, language, zh_tokenization)) for r in _as_list(reference))


def qa_f1(
    prediction: str, reference: References, language: str, zh_tokenization: str = ZH_TOKENIZATION
) -> float:
    """SQuAD bag-of-tokens F1 on normalized answers (max over references)."""
    pred = answer_tokens(prediction, language, zh_tokenization)
    return max(_token_f1(pred, answer_tokens(r, language, zh_tokenization)) for r in _as_list(reference))


def rouge_l_f1(
    prediction: str, reference: References, language: str, zh_tokenization: str = ZH_TOKENIZATION
) -> float:
    """ROUGE-L F1 (β = 1, longest common subsequence) on the same tokens as QA-F1."""
    pred = answer_tokens(prediction, language, zh_tokenization)
    return max(_rouge_l(pred, answer_tokens(r, language, zh_tokenization)) for r in _as_list(reference))


def utility_scores(
    predictions: Sequence[str],
    references: Sequence[References],
    languages: Sequence[str],
    zh_tokenization: str = ZH_TOKENIZATION,
) -> dict:
    """Per-example EM / QA-F1 / ROUGE-L arrays plus their means, overall and per language."""
    if not (len(predictions) == len(references) == len(languages)):
        raise ValueError(
            f"length mismatch: {len(predictions)} predictions, {len(references)} references, "
            f"{len(languages)} languages"
        )
    per_example = {
        name: np.array(
            [fn(p, r, lang, zh_tokenization) for p, r, lang in zip(predictions, references, languages)],
            dtype=float,
        )
        for name, fn in (("em", exact_match), ("qa_f1", qa_f1), ("rouge_l", rouge_l_f1))
    }
    langs = np.asarray(languages)
    result: dict = {
        "n": len(predictions),
        "zh_tokenization": zh_tokenization,
        "per_example": per_example,
    }
    for name, values in per_example.items():
        result[name] = float(values.mean()) if len(values) else float("nan")
    result["per_language"] = {
        lang: {
            "n": int((langs == lang).sum()),
            **{name: float(values[langs == lang].mean()) for name, values in per_example.items()},
        }
        for lang in sorted(set(languages))
    }
    return result
