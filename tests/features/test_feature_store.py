import numpy as np
import pytest

from polyalign.critic.targets import critic_rows
from polyalign.features.store import FeatureTable, load_features, save_features


def table(ids, X, buckets, valid=None, samples=None):
    n = len(ids)
    return FeatureTable(
        np.array(ids),
        ["f"],
        np.array(X, dtype=float).reshape(n, 1),
        np.ones(n, bool) if valid is None else np.array(valid),
        np.array(buckets),
        np.array(["en"] * n),
        np.zeros(n, np.int64) if samples is None else np.array(samples),
    )


def test_round_trip(tmp_path):
    t = table(["a", "b"], [1.0, np.nan], ["b1", "b1"], valid=[True, False], samples=[0, 2])
    save_features(tmp_path / "f.npz", t)
    u = load_features(tmp_path / "f.npz")
    assert list(u.ids) == ["a", "b"] and u.names == ["f"] and list(u.samples) == [0, 2]
    assert u.X[0, 0] == 1.0 and np.isnan(u.X[1, 0]) and list(u.valid) == [True, False]


def test_a_table_takes_its_records_bucket_ids():
    t = table(
        ["a", "b", "a"], [1.0, 2.0, 3.0], ["en|qa|short", "en|qa|long", "en|qa|short"], samples=[0, 0, 1]
    )
    u = t.with_buckets([{"id": "b", "bucket_id": "en|qa"}, {"id": "a", "bucket_id": "en|qa"}])
    assert list(u.bucket_ids) == ["en|qa"] * 3
    assert list(u.ids) == ["a", "b", "a"] and list(u.X[:, 0]) == [1.0, 2.0, 3.0]
    assert list(t.bucket_ids) == ["en|qa|short", "en|qa|long", "en|qa|short"]
    with pytest.raises(KeyError):
        t.with_buckets([{"id": "a", "bucket_id": "en"}])


def refs_one_feature():
    # bucket b1: q10 = 1, q90 = 3, std 0.5, language band g = 1.5 -> scale max(2, 0.5, 1.5) = 2
    stats = {
        "count": 30,
        "mean": 2.0,
        "std": 0.5,
        "min": 0.0,
        "max": 4.0,
        "q10": 1.0,
        "q25": 1.5,
        "q50": 2.0,
        "q75": 2.5,
        "q90": 3.0,
    }
    return {
        "format": "polyalign.references.v2",
        "features": [{"name": "f", "group": "custom", "scope": "all"}],
        "buckets": {"b1": {"count": 30, "languages": ["en"], "features": {"f": stats}}},
        "skipped": {"b2": 3},
        "min_bucket_size": 20,
        "language_scales": {"en": {"f": 1.5}},
    }


def test_critic_rows_targets_and_drops():
    records = [
        {"id": "a", "human_answer": "ha"},
        {"id": "b", "human_answer": "hb"},
        {"id": "c", "human_answer": "hc"},
    ]
    human = table(["a", "b", "c"], [2.0, 4.0, 1.0], ["b1", "b1", "b2"])
    gens = [{"id": "a", "answer": "ga"}, {"id": "b", "answer": ""}]
    model = table(["a", "b"], [7.0, np.nan], ["b1", "b1"], valid=[True, False])
    rows, report = critic_rows(records, human, [("sft", gens, model)], refs_one_feature())
    # human a inside the band -> 0; human b: (4 - 3)/2 = 0.5; model a: (7 - 3)/2 = 2
    assert [(r["id"], r["source"], r["target"]) for r in rows] == [
        ("a", "human", 0.0),
        ("b", "human", 0.5),
        ("a", "model", 2.0),
    ]
    assert report["dropped"] == {"human:bucket_without_reference": 1, "model:invalid_response": 1}
    assert report["rows"] == {"human": 2, "model": 1}
    human_dist = report["target_distribution"]["human"]
    assert (human_dist["median"], human_dist["mean"], human_dist["max"], human_dist["share_zero"]) == (
        0.25,
        0.25,
        0.5,
        0.5,
    )
    assert human_dist["p99"] == pytest.approx(0.495)  # linear interpolation between 0 and 0.5
    assert report["target_distribution"]["model"]["median"] == 2.0


def test_critic_rows_reject_misaligned_samples():
    records = [{"id": "a", "human_answer": "ha"}]
    with pytest.raises(ValueError, match="not aligned"):
        critic_rows(
            records,
            table(["a"], [2.0], ["b1"]),
            [("sft", [{"id": "zz", "answer": "x"}], table(["a"], [2.0], ["b1"]))],
            refs_one_feature(),
        )
