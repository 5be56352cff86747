"""config `subsample`: a seeded stratified subsample per (corpus, bucket) that keeps every stratum."""

from collections import Counter

from polyalign.data.subsample import stratum_size, subsample


def records():
    rows = []
    for i in range(100):
        rows.append({"id": f"a:{i}", "dataset": "a", "bucket_id": "en|single|qa|long"})
    for i in range(7):
        rows.append({"id": f"a:s{i}", "dataset": "a", "bucket_id": "en|single|qa|short"})
    for i in range(30):
        rows.append(
            {"id": f"b:{i}", "dataset": "b", "bucket_id": "en|single|qa|long"}
        )  # same bucket, other corpus
    return rows


def test_each_stratum_keeps_its_share_with_a_floor():
    kept = subsample(records(), 0.1, 5, seed=42)
    strata = Counter((r["dataset"], r["bucket_id"]) for r in kept)
    # 100 -> ceil(10) = 10; 7 -> max(5, ceil(0.7)) = 5; 30 -> max(5, 3) = 5
    assert strata == {
        ("a", "en|single|qa|long"): 10,
        ("a", "en|single|qa|short"): 5,
        ("b", "en|single|qa|long"): 5,
    }
    assert stratum_size(3, 0.1, 5) == 3  # a stratum under the floor is kept whole


def test_input_order_kept_and_choice_seeded_and_nested():
    rows = records()
    kept = subsample(rows, 0.2, 0, seed=1)
    order = {r["id"]: i for i, r in enumerate(rows)}
    assert [order[r["id"]] for r in kept] == sorted(order[r["id"]] for r in kept)
    assert [r["id"] for r in subsample(list(reversed(rows)), 0.2, 0, seed=1)] == [
        r["id"] for r in reversed(kept)
    ]
    assert {r["id"] for r in subsample(rows, 0.2, 0, seed=2)} != {r["id"] for r in kept}
    assert {r["id"] for r in subsample(rows, 0.1, 0, seed=1)} <= {r["id"] for r in kept}


def test_the_default_keeps_everything():
    rows = records()
    assert subsample(rows, 1.0, 0, seed=42) is rows
