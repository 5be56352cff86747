"""Bucket references (nearest-rank quantiles with Python rounding) and the support distance."""

import json
import math

import numpy as np
import pytest

from polyalign.io import InputError
from polyalign.references import (
    MissingReferenceError,
    build_references,
    feature_distances,
    load_references,
    quantile_index,
    reference_coverage,
    reference_summary_markdown,
    support_distance,
    write_reference_summary,
    write_references,
)

NAMES = ["count_chars", "case_upper_ratio", "punct_comma_fw"]  # scopes all / en / zh


def test_quantile_index_uses_python_round_half_to_even():
    # n = 6: (n-1)p = 0.5, 1.25, 2.5, 3.75, 4.5 -> 0, 1, 2, 4, 4 (half-up would give 1, ., 3, ., 5)
    assert [quantile_index(6, p) for p in (0.1, 0.25, 0.5, 0.75, 0.9)] == [0, 1, 2, 4, 4]
    # n = 4: 0.3, 0.75, 1.5, 2.25, 2.7 -> 0, 1, 2, 2, 3
    assert [quantile_index(4, p) for p in (0.1, 0.25, 0.5, 0.75, 0.9)] == [0, 1, 2, 2, 3]
    assert quantile_index(1, 0.9) == 0


def test_bucket_stats_by_hand():
    values = [6.0, 1.0, 5.0, 2.0, 4.0, 3.0]  # sorted 1..6
    feats = np.array([[v, v / 10, np.nan] for v in values])
    refs = build_references(feats, ["en|b"] * 6, ["en"] * 6, NAMES, min_bucket_size=3)
    st = refs["buckets"]["en|b"]["features"]["count_chars"]
    assert st == {
        "count": 6,
        "mean": 3.5,
        "std": math.sqrt(17.5 / 6),
        "min": 1.0,
        "max": 6.0,
        "q10": 1.0,
        "q25": 2.0,
        "q50": 3.0,
        "q75": 5.0,
        "q90": 5.0,
        "support_q10_q90": [1.0, 5.0],
        "support_q25_q75": [2.0, 5.0],
    }
    # The zh-only feature is out of scope of an English bucket and absent from its reference.
    assert set(refs["buckets"]["en|b"]["features"]) == {"count_chars", "case_upper_ratio"}
    assert refs["buckets"]["en|b"]["languages"] == ["en"]


def test_small_buckets_are_skipped_with_counts():
    feats = np.array([[1.0, np.nan, 0.0]] * 3 + [[1.0, 0.5, np.nan]] * 5)
    buckets = ["zh|s"] * 3 + ["en|s"] * 5
    refs = build_references(feats, buckets, ["zh"] * 3 + ["en"] * 5, NAMES, min_bucket_size=4)
    assert list(refs["buckets"]) == ["en|s"] and refs["skipped"] == {"zh|s": 3}


def test_nan_in_scope_raises_naming_the_row():
    feats = np.array([[1.0, 0.1, np.nan], [np.nan, 0.1, np.nan]])
    with pytest.raises(InputError, match=r"row 1 \(id 'y'\).*'count_chars'"):
        build_references(feats, ["en|b"] * 2, ["en"] * 2, NAMES, 1, ids=["x", "y"])


def test_mixed_language_bucket_keeps_only_language_free_features():
    feats = np.array([[1.0, 0.1, np.nan], [2.0, np.nan, 3.0]])
    refs = build_references(feats, ["b", "b"], ["en", "zh"], NAMES, 1)
    assert list(refs["buckets"]["b"]["features"]) == ["count_chars"]


def test_custom_features_need_scopes():
    with pytest.raises(InputError, match="scopes"):
        build_references(np.zeros((1, 1)), ["b"], ["en"], ["mystery"], 1)
    refs = build_references(np.zeros((1, 1)), ["b"], ["en"], ["mystery"], 1, scopes=["all"])
    assert refs["features"] == [{"name": "mystery", "group": "custom", "scope": "all"}]


def _two_feature_refs():
    # count_chars: q10 = 10, q90 = 20, std = 4, language band 6 -> scale 10;
    # case_upper_ratio: q10 = q90 = 0.5, std = 0 in the bucket, language band 0.25 -> scale 0.25
    return {
        "buckets": {
            "en|b": {
                "count": 5,
                "languages": ["en"],
                "features": {
                    "count_chars": {"q10": 10.0, "q90": 20.0, "std": 4.0},
                    "case_upper_ratio": {"q10": 0.5, "q90": 0.5, "std": 0.0},
                },
            }
        },
        "skipped": {"en|small": 2},
        "min_bucket_size": 20,
        "language_scales": {"en": {"count_chars": 6.0, "case_upper_ratio": 0.25}},
    }


def test_support_distance_by_hand():
    refs = _two_feature_refs()
    feats = np.array(
        [
            [15.0, 0.5, np.nan],  # inside both bands -> 0
            [25.0, 0.5, np.nan],  # 5 above q90 / scale 10 -> 0.5; mean 0.25
            [4.0, 0.5 + 2e-6, np.nan],  # 6 below / 10 = 0.6; 2e-6 / 0.25 = 8e-6; mean 0.300004
            [15.0, 1.0, np.nan],  # 0; 0.5 above the zero-width band / language band 0.25 = 2; mean 1
        ]
    )
    d = feature_distances(feats, ["en|b"] * 4, refs, NAMES)
    np.testing.assert_allclose(d[:, :2], [[0, 0], [0.5, 0], [0.6, 8e-6], [0, 2.0]], rtol=1e-9)
    assert np.isnan(d[:, 2]).all()
    np.testing.assert_allclose(
        support_distance(feats, ["en|b"] * 4, refs, NAMES), [0.0, 0.25, 0.300004, 1.0], rtol=1e-9
    )


def test_the_language_band_is_the_floor_and_constant_features_are_left_out():
    refs = _two_feature_refs()
    # with the old 1e-6 floor the stray 0.5 -> 1.0 would score 5e5; the language band gives 2
    feats = np.array([[15.0, 1.0, np.nan]])
    assert feature_distances(feats, ["en|b"], refs, NAMES)[0, 1] == pytest.approx(2.0)
    # a feature constant across the language (g = 0) carries no scale: out of D_b, not 0
    refs["language_scales"]["en"]["case_upper_ratio"] = 0.0
    d = feature_distances(feats, ["en|b"], refs, NAMES)
    assert np.isnan(d[0, 1]) and d[0, 0] == 0.0
    assert support_distance(np.array([[25.0, 9.0, np.nan]]), ["en|b"], refs, NAMES)[0] == pytest.approx(0.5)


def test_language_scales_are_built_over_every_row_of_the_language():
    # en rows: 4 in bucket en|a (count_chars 1, 1, 1, 1) and 6 in the small en|s (2..7);
    # count_chars over all 10 en rows, sorted 1 1 1 1 2 3 4 5 6 7: q10 = sorted[round(0.9)] = 1,
    # q90 = sorted[round(8.1)] = sorted[8] = 6 -> g = 5. case_upper_ratio is 0 everywhere -> g = 0.
    values = [1.0] * 4 + [2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    feats = np.array([[v, 0.0, np.nan] for v in values] + [[3.0, np.nan, 1.0], [9.0, np.nan, 2.0]])
    buckets = ["en|a"] * 4 + ["en|s"] * 6 + ["zh|s"] * 2
    refs = build_references(feats, buckets, ["en"] * 10 + ["zh"] * 2, NAMES, min_bucket_size=4)
    assert list(refs["buckets"]) == ["en|a", "en|s"] and refs["skipped"] == {"zh|s": 2}
    assert refs["language_scales"] == {"en": {"count_chars": 5.0, "case_upper_ratio": 0.0}}
    # en|a has zero spread in count_chars: a 3 is 2 above q90 = 1, scaled by g = 5 -> 0.4
    d = support_distance(np.array([[3.0, 0.7, np.nan]]), ["en|a"], refs, NAMES)
    assert d[0] == pytest.approx(0.4)  # case_upper_ratio left out (constant in en)


def test_scale_is_the_max_of_band_width_std_and_floor():
    refs = _two_feature_refs()
    feats = np.array([[0.0, 0.5, np.nan]])
    refs["buckets"]["en|b"]["features"]["count_chars"]["std"] = 40.0  # std beats band width
    assert feature_distances(feats, ["en|b"], refs, NAMES)[0, 0] == pytest.approx(10 / 40)


def test_mixed_buckets_vectorised_and_column_order_free():
    refs = _two_feature_refs()
    refs["buckets"]["zh|b"] = {
        "count": 5,
        "languages": ["zh"],
        "features": {"punct_comma_fw": {"q10": 1.0, "q90": 3.0, "std": 1.0}},
    }
    refs["language_scales"]["zh"] = {"punct_comma_fw": 1.5}
    names = ["punct_comma_fw", "count_chars", "case_upper_ratio"]
    feats = np.array([[np.nan, 30.0, 0.5], [7.0, 999.0, np.nan]])
    d = support_distance(feats, ["en|b", "zh|b"], refs, names)
    np.testing.assert_allclose(d, [0.5, 2.0])


def test_missing_bucket_raises_or_gives_nan_never_zero():
    refs = _two_feature_refs()
    feats = np.array([[15.0, 0.5, np.nan]] * 3)
    buckets = ["en|b", "en|small", "en|new"]
    with pytest.raises(MissingReferenceError, match="en\\|small.*skipped.*en\\|new.*unknown"):
        support_distance(feats, buckets, refs, NAMES)
    d = support_distance(feats, buckets, refs, NAMES, on_missing="nan")
    assert d[0] == 0.0 and np.isnan(d[1:]).all()
    assert reference_coverage(buckets, refs) == {
        "known": {"en|b": 1},
        "skipped": {"en|small": 1},
        "unknown": {"en|new": 1},
    }


def test_nan_feature_or_missing_column_raises():
    refs = _two_feature_refs()
    with pytest.raises(InputError, match="'count_chars'"):
        support_distance(np.array([[np.nan, 0.5, 1.0]]), ["en|b"], refs, NAMES)
    with pytest.raises(InputError, match="not among"):
        support_distance(np.array([[1.0]]), ["en|b"], refs, ["count_chars"])


def test_human_rows_inside_their_own_iqr_have_zero_distance():
    rng = np.random.default_rng(0)
    feats = np.column_stack([rng.normal(100, 10, 200), rng.uniform(0, 1, 200), np.full(200, np.nan)])
    refs = build_references(feats, ["en|b"] * 200, ["en"] * 200, NAMES, 20)
    d = support_distance(feats, ["en|b"] * 200, refs, NAMES)
    assert (d >= 0).all() and 0.5 < np.mean(d == 0) < 0.9


def test_artifacts_round_trip(tmp_path):
    feats = np.array([[float(i), 0.1 * i, np.nan] for i in range(5)])
    refs = build_references(feats, ["en|b"] * 4 + ["en|c"], ["en"] * 5, NAMES, 2)
    write_references(tmp_path / "refs.json", refs)
    loaded = load_references(tmp_path / "refs.json")
    assert loaded == json.loads(json.dumps(refs))
    np.testing.assert_array_equal(
        support_distance(feats[:4], ["en|b"] * 4, loaded, NAMES),
        support_distance(feats[:4], ["en|b"] * 4, refs, NAMES),
    )
    write_reference_summary(refs, tmp_path / "refs.md", tmp_path / "refs.tsv")
    tsv = (tmp_path / "refs.tsv").read_text().splitlines()
    assert tsv[0].split("\t")[:3] == ["bucket", "n", "feature"] and len(tsv) == 1 + 2
    md = reference_summary_markdown(refs)
    assert "## en|b (n = 4)" in md and "en|c (1)" in md
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(InputError):
        load_references(tmp_path / "bad.json")
