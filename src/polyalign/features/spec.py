"""The feature registry: every feature of φ(y) with its group and language scope (docs/method.md §3).

The order of `TEXT_FEATURES` (then `LM_FEATURES`) is the column order of every feature matrix
this package produces. Out-of-scope entries (e.g. casing features of a Chinese response) are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import schema_default

# The keyword default of the LM features' perplexity cap: the config schema's (written there only).
MAX_PPL = schema_default("features", "max_ppl")

SCOPES = ("all", "en", "zh")
LANGUAGES = ("en", "zh")


class FeatureError(ValueError):
    """A response cannot be featurised (empty text, unknown language, a non-finite in-scope
    value). The message names the row index (and id when ids were given)."""


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    group: str
    scope: str  # "all", "en" or "zh"

    def applies_to(self, language: str) -> bool:
        return self.scope == "all" or self.scope == language


def _specs(group: str, scope: str, names: str) -> list[FeatureSpec]:
    return [FeatureSpec(n, group, scope) for n in names.split()]


TEXT_FEATURES: tuple[FeatureSpec, ...] = tuple(
    _specs(
        "counts",
        "all",
        "count_chars count_tokens count_words count_sentences count_paragraphs "
        "count_newlines count_digits count_punct count_non_ascii",
    )
    + _specs(
        "lengths", "all", "len_word_mean len_word_std len_sentence_mean len_sentence_std len_sentence_max"
    )
    + _specs(
        "lexical",
        "all",
        "lex_ttr lex_root_ttr lex_corrected_ttr lex_hapax_ratio lex_distinct_1 "
        "lex_distinct_2 lex_distinct_3 lex_entropy lex_max_word_share "
        "lex_repeated_sentence_ratio lex_char_run_ratio",
    )
    + _specs(
        "punctuation",
        "all",
        "punct_question_ascii punct_exclaim_ascii punct_comma_ascii punct_semicolon_ascii "
        "punct_colon_ascii punct_period_ascii punct_ellipsis punct_quote_ascii "
        "punct_quote_curly punct_bracket_ascii punct_density punct_question_sentence_ratio "
        "punct_exclaim_sentence_ratio",
    )
    + _specs(
        "punctuation",
        "zh",
        "punct_question_fw punct_exclaim_fw punct_comma_fw punct_semicolon_fw "
        "punct_colon_fw punct_period_fw punct_enum_comma punct_quote_cjk punct_bracket_fw",
    )
    + _specs(
        "format", "all", "fmt_bullets fmt_enumerations fmt_code_fences fmt_urls fmt_headings fmt_emphasis"
    )
    + _specs(
        "casing",
        "en",
        "case_upper_ratio case_capitalized_word_ratio case_all_caps_word_ratio "
        "case_sentence_initial_cap_ratio",
    )
)

LM_FEATURES: tuple[FeatureSpec, ...] = tuple(
    _specs(
        "lm",
        "all",
        "lm_cond_nll_mean lm_cond_nll_std lm_cond_nll_min lm_cond_nll_max lm_cond_ppl "
        "lm_uncond_nll_mean lm_uncond_nll_std lm_uncond_nll_min lm_uncond_nll_max "
        "lm_uncond_ppl lm_logprob_gain",
    )
)

_BY_NAME = {s.name: s for s in TEXT_FEATURES + LM_FEATURES}
assert len(_BY_NAME) == len(TEXT_FEATURES) + len(LM_FEATURES), "duplicate feature name"


def feature_specs(include_lm: bool = False) -> list[FeatureSpec]:
    return list(TEXT_FEATURES + (LM_FEATURES if include_lm else ()))


def feature_names(include_lm: bool = False) -> list[str]:
    return [s.name for s in feature_specs(include_lm)]


def lm_feature_names() -> list[str]:
    return [s.name for s in LM_FEATURES]


def spec_by_name(name: str) -> FeatureSpec:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise FeatureError(f"unknown feature name {name!r}") from None


def scope_mask(names: list[str], languages: list[str]):
    """Boolean [n, F] array: True where feature f applies to row i's language."""
    import numpy as np

    specs = [spec_by_name(n) for n in names]
    mask = np.zeros((len(languages), len(specs)), dtype=bool)
    for lang in LANGUAGES:
        rows = np.array([lg == lang for lg in languages], dtype=bool)
        cols = np.array([s.applies_to(lang) for s in specs], dtype=bool)
        mask[np.ix_(rows, cols)] = True
    return mask


def describe_row(index: int, ids: list[str] | None) -> str:
    return f"row {index}" + (f" (id {ids[index]!r})" if ids is not None else "")
