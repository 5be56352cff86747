"""Registry invariants and explicit failures on bad input (never a silent 0)."""

import numpy as np
import pytest

from polyalign.features.extract import (
    check_in_scope_finite,
    extract_features,
    extract_text_features,
    find_invalid_rows,
)
from polyalign.features.spec import (
    LM_FEATURES,
    TEXT_FEATURES,
    FeatureError,
    feature_names,
    lm_feature_names,
    scope_mask,
    spec_by_name,
)


def test_registry_names_groups_scopes():
    names = feature_names(include_lm=True)
    assert len(names) == len(set(names)) == len(TEXT_FEATURES) + len(LM_FEATURES)
    assert {s.group for s in TEXT_FEATURES} == {
        "counts",
        "lengths",
        "lexical",
        "punctuation",
        "format",
        "casing",
    }
    assert {s.scope for s in TEXT_FEATURES} == {"all", "en", "zh"}
    assert all(s.group == "lm" and s.scope == "all" for s in LM_FEATURES)
    assert spec_by_name("case_upper_ratio").scope == "en"
    assert spec_by_name("punct_comma_fw").scope == "zh"
    with pytest.raises(FeatureError):
        spec_by_name("nope")


def test_scope_mask():
    names = ["count_chars", "case_upper_ratio", "punct_comma_fw"]
    mask = scope_mask(names, ["en", "zh"])
    np.testing.assert_array_equal(mask, [[True, True, False], [True, False, True]])


@pytest.mark.parametrize(
    "text,language,reason",
    [
        ("", "en", "empty response"),
        ("  \n\t ", "zh", "empty response"),
        ("Bonjour", "fr", "unknown language"),
        (None, "en", "not a string"),
    ],
)
def test_bad_rows_raise_naming_the_row_and_id(text, language, reason):
    texts, langs = ["Fine.", text], ["en", language]
    with pytest.raises(FeatureError, match=rf"row 1 \(id 'b'\): .*{reason}"):
        extract_text_features(texts, langs, ids=["a", "b"])
    assert find_invalid_rows(texts, langs)[0][0] == 1


def test_length_mismatch_raises():
    with pytest.raises(FeatureError):
        extract_text_features(["a", "b"], ["en"])


def test_nan_in_scope_is_reported_but_nan_out_of_scope_is_fine():
    names = ["count_chars", "case_upper_ratio"]
    check_in_scope_finite(np.array([[1.0, np.nan]]), names, ["zh"])
    with pytest.raises(FeatureError, match="row 0 .*'case_upper_ratio'"):
        check_in_scope_finite(np.array([[1.0, np.nan]]), names, ["en"], ids=["x"])


def test_extract_features_without_model_is_text_only_and_needs_prompts_with_model():
    matrix, names = extract_features(["Hi there."], ["en"])
    assert names == feature_names() and matrix.shape == (1, len(names))
    with pytest.raises(FeatureError, match="prompts"):
        extract_features(["Hi there."], ["en"], model=object(), tokenizer=object())
    assert lm_feature_names()[-1] == "lm_logprob_gain"
