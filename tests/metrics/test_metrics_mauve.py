"""Global MAUVE and C-MAUVE through mauve-text on tiny random features."""

import numpy as np
import pytest

from polyalign.metrics.mauve_metrics import MauveSettings, conditional_mauve, mauve_score

FAST = MauveSettings(kmeans_num_redo=1, kmeans_max_iter=50, min_size=20)


@pytest.fixture(scope="module")
def feats():
    rng = np.random.default_rng(0)
    return {
        "h": rng.normal(size=(120, 8)),
        "g_same": rng.normal(size=(150, 8)),
        "pos": np.abs(rng.normal(size=(120, 8))),
        "neg": -np.abs(rng.normal(size=(120, 8))),
    }


def test_identical_similar_and_disjoint(feats):
    same = mauve_score(feats["h"], feats["h"], FAST)
    assert same["mauve"] == pytest.approx(1.0, abs=1e-6)
    similar = mauve_score(feats["h"], feats["g_same"], FAST)
    assert similar["mauve"] > 0.8
    disjoint = mauve_score(feats["pos"], feats["neg"], FAST)
    assert disjoint["mauve"] < 0.1


def test_records_n_clusters_and_is_deterministic(feats):
    a = mauve_score(feats["h"], feats["g_same"], FAST)
    b = mauve_score(feats["h"], feats["g_same"], FAST)
    assert a == b
    assert a["n"] == 120 and a["num_clusters"] == 12  # auto: round(120 / 10)
    capped = mauve_score(feats["h"], feats["g_same"], MauveSettings(cap=50, num_buckets=4, kmeans_num_redo=1))
    assert capped["n"] == 50 and capped["num_clusters"] == 4
    with pytest.raises(ValueError):
        MauveSettings(num_buckets="many")


def test_conditional_mauve_skips_small_buckets(feats):
    out = conditional_mauve(
        {"big": feats["h"], "small": feats["h"][:10]},
        {"big": feats["g_same"], "small": feats["pos"][:10], "gen_only": feats["pos"]},
        FAST,
    )
    assert set(out["per_bucket"]) == {"big"}
    assert set(out["skipped"]) == {"small", "gen_only"}
    assert out["macro"] == pytest.approx(out["per_bucket"]["big"])
    assert out["weighted"] == pytest.approx(out["per_bucket"]["big"])
    assert out["n"] == {"big": 120} and out["num_clusters"] == {"big": 12}


def test_conditional_mauve_weighted_by_generated_rows(feats):
    out = conditional_mauve(
        {"x": feats["h"][:30], "y": feats["pos"][:60]}, {"x": feats["h"][:30], "y": feats["neg"]}, FAST
    )
    m_y = out["per_bucket"]["y"]
    assert out["per_bucket"]["x"] == pytest.approx(1.0, abs=1e-6) and m_y < 0.2
    assert out["n_generated"] == {"x": 30, "y": 120} and out["n"] == {"x": 30, "y": 60}
    assert out["macro"] == pytest.approx((1.0 + m_y) / 2, abs=1e-6)
    assert out["weighted"] == pytest.approx((30 * 1.0 + 120 * m_y) / 150, abs=1e-6)
