"""φ(y): bilingual, language-aware response features (docs/method.md §3). See docs/features.md."""

from .extract import check_in_scope_finite, extract_features, extract_text_features, find_invalid_rows
from .lm_features import lm_features
from .segment import segmenter_info
from .spec import (
    LM_FEATURES,
    TEXT_FEATURES,
    FeatureError,
    FeatureSpec,
    feature_names,
    feature_specs,
    lm_feature_names,
    scope_mask,
    spec_by_name,
)

__all__ = [
    "FeatureError",
    "FeatureSpec",
    "TEXT_FEATURES",
    "LM_FEATURES",
    "feature_names",
    "feature_specs",
    "lm_feature_names",
    "spec_by_name",
    "scope_mask",
    "extract_text_features",
    "extract_features",
    "find_invalid_rows",
    "check_in_scope_finite",
    "lm_features",
    "segmenter_info",
]
