"""Batch feature extraction: validation, the text-feature matrix and the combined φ(y)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..progress import progress_bar
from ..text import normalize_text
from .spec import LANGUAGES, MAX_PPL, FeatureError, describe_row, feature_names, scope_mask
from .text_features import text_feature_row

_MAX_LISTED = 5


def find_invalid_rows(texts: Sequence, languages: Sequence) -> list[tuple[int, str]]:
    """(row index, reason) for every row that cannot be featurised: a non-string response, an
    empty response (after normalization) or a language other than en/zh."""
    if len(texts) != len(languages):
        raise FeatureError(f"{len(texts)} texts but {len(languages)} languages")
    problems = []
    for i, (text, lang) in enumerate(zip(texts, languages)):
        if lang not in LANGUAGES:
            problems.append((i, f"unknown language {lang!r} (expected one of {LANGUAGES})"))
        elif not isinstance(text, str):
            problems.append((i, f"response is {type(text).__name__}, not a string"))
        elif not normalize_text(text):
            problems.append((i, "empty response"))
    return problems


def _raise_problems(problems: list[tuple[int, str]], ids: Sequence[str] | None) -> None:
    listed = "; ".join(f"{describe_row(i, ids)}: {why}" for i, why in problems[:_MAX_LISTED])
    more = f" (and {len(problems) - _MAX_LISTED} more)" if len(problems) > _MAX_LISTED else ""
    raise FeatureError(f"{len(problems)} response(s) cannot be featurised: {listed}{more}")


def check_in_scope_finite(
    matrix: np.ndarray, names: list[str], languages: Sequence[str], ids: Sequence[str] | None = None
) -> None:
    """Raise FeatureError naming rows/features where an in-scope value is NaN or infinite."""
    bad = scope_mask(names, list(languages)) & ~np.isfinite(matrix)
    if bad.any():
        rows, cols = np.nonzero(bad)
        _raise_problems(
            [(int(r), f"non-finite value of in-scope feature {names[c]!r}") for r, c in zip(rows, cols)], ids
        )


def extract_text_features(
    texts: Sequence[str],
    languages: Sequence[str],
    ids: Sequence[str] | None = None,
    normalize: bool = True,
    progress: bool = False,
) -> np.ndarray:
    """Text features of every response: float64 [n, F] in `feature_names()` order, NaN where a
    feature is out of the row's language scope.

    Responses are normalized with `normalize_text` first (idempotent on records, which are
    already normalized; it makes model generations comparable). Empty responses and unknown
    languages raise FeatureError naming the rows; nothing is silently set to 0.
    """
    if ids is not None and len(ids) != len(texts):
        raise FeatureError(f"{len(texts)} texts but {len(ids)} ids")
    problems = find_invalid_rows(texts, languages)
    if problems:
        _raise_problems(problems, ids)
    iterator = zip(texts, languages)
    if progress:
        iterator = progress_bar(iterator, total=len(texts), desc="text features", mininterval=5)
    rows = [text_feature_row(normalize_text(t) if normalize else t, lang) for t, lang in iterator]
    matrix = np.array(rows, dtype=np.float64).reshape(len(texts), len(feature_names()))
    check_in_scope_finite(matrix, feature_names(), languages, ids)
    return matrix


def extract_features(
    texts: Sequence[str],
    languages: Sequence[str],
    *,
    ids: Sequence[str] | None = None,
    prompts: Sequence[str] | None = None,
    model=None,
    tokenizer=None,
    batch_size: int = 8,
    max_ppl: float = MAX_PPL,
    max_length: int | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, list[str]]:
    """φ(y) for every response: text features, plus the LM features when a scoring `model`
    and `tokenizer` are given (then `prompts`, the rendered prompt strings, are required).
    Returns (matrix [n, F], column names)."""
    matrix = extract_text_features(texts, languages, ids=ids, progress=progress)
    names = feature_names()
    if model is None:
        return matrix, names
    if tokenizer is None or prompts is None:
        raise FeatureError("LM features need a tokenizer and the rendered prompts")
    from .lm_features import lm_features
    from .spec import lm_feature_names

    normalized = [normalize_text(t) for t in texts]
    lm = lm_features(
        model,
        tokenizer,
        list(prompts),
        normalized,
        batch_size=batch_size,
        max_ppl=max_ppl,
        max_length=max_length,
        ids=ids,
        progress=progress,
    )
    return np.concatenate([matrix, lm], axis=1), names + lm_feature_names()
