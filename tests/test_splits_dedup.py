import hashlib
from collections import Counter

import pytest

from polyalign.data.splits import dedup, dedup_key, hash_split, hash_unit


def test_hash_unit_matches_formula():
    # md5("42:x")[:8] = fae57f57 -> 0xfae57f57 / 0xFFFFFFFF
    assert hashlib.md5(b"42:x").hexdigest()[:8] == "fae57f57"
    assert hash_unit("x", 42) == pytest.approx(0xFAE57F57 / 0xFFFFFFFF)


@pytest.mark.parametrize(
    "key,expected",
    [
        ("chatterbot:english/ai:0", "train"),  # u = 0.0716
        ("k2", "val"),  # u = 0.8764
        ("z", "train"),  # u = 0.7175
        ("y", "test"),  # u = 0.9161
        ("x", "test"),  # u = 0.9801
    ],
)
def test_hash_split_hand_computed(key, expected):
    assert hash_split(key, 42, {"train": 0.8, "val": 0.1, "test": 0.1}) == expected


def test_hash_split_two_way_and_seed_dependence():
    assert hash_split("k2", 42, {"train": 0.9, "val": 0.1}) == "train"  # 0.876 <= 0.9
    labels = Counter(hash_split(f"key{i}", 7, {"train": 0.8, "val": 0.1, "test": 0.1}) for i in range(20000))
    assert abs(labels["train"] / 20000 - 0.8) < 0.015
    assert abs(labels["test"] / 20000 - 0.1) < 0.01


def test_hash_split_rejects_bad_weights():
    with pytest.raises(ValueError, match="sum to 1"):
        hash_split("x", 42, {"train": 0.8, "val": 0.1})


def rec(rid, split, answer, dataset="a", question="Q?", history=()):
    return {
        "id": rid,
        "split": split,
        "dataset": dataset,
        "language": "en",
        "track": "single",
        "family": "qa",
        "question": question,
        "context": "",
        "human_answer": answer,
        "history": list(history),
    }


def test_dedup_key_is_case_insensitive_and_field_sensitive():
    assert dedup_key(rec(1, "train", "Paris")) == dedup_key(rec(2, "test", "PARIS"))
    assert dedup_key(rec(1, "train", "Paris")) != dedup_key(rec(1, "train", "Paris", question="Other?"))
    with_history = rec(1, "train", "Paris", history=[{"role": "user", "text": "hi"}])
    assert dedup_key(with_history) != dedup_key(rec(1, "train", "Paris"))


def test_dedup_keeps_evaluation_copy_and_reports_kinds():
    records = [
        rec("t1", "train", "Paris"),  # shadowed by the test copy
        rec("t2", "train", "Rome"),
        rec("t3", "train", "rome"),  # same split duplicate of t2
        rec("v1", "val", "Paris", dataset="b"),  # shadowed by test, cross corpus
        rec("s1", "test", "paris"),
        rec("v2", "val", "Oslo"),
        rec("t4", "train", "oslo"),  # shadowed by val
    ]
    kept, report = dedup(records)
    assert [r["id"] for r in kept] == ["t2", "s1", "v2"]
    assert report["removed"] == 4
    assert report["removed_by_kind"] == {
        "in_test:same_corpus": 1,
        "in_test:cross_corpus": 1,
        "in_val:same_corpus": 1,
        "same_split:same_corpus": 1,
    }
    assert report["duplicate_rate"] == pytest.approx(4 / 7)
    assert report["removed_by_dataset_split"] == {"a/train": 3, "b/val": 1}
