import pytest

from polyalign.buckets import assign_buckets, bucket_statistics, rebucket
from polyalign.io import InputError


def rec(answer, language="en", track="single", family="qa", situation="qa_search", split="train"):
    return {
        "language": language,
        "track": track,
        "family": family,
        "situation": situation,
        "human_answer": answer,
        "split": split,
        "meta": {},
    }


def test_bucket_ids_and_length_bins():
    recs = assign_buckets(
        [
            rec("Paris"),
            rec("一 二 三 四 五 六 七 八 九 十 十一", language="zh", track="multi", family="dialogue"),
        ],
        [10, 25, 40],
        ["language", "track", "family", "length_bin"],
    )
    assert recs[0]["bucket_id"] == "en|single|qa|short"
    # 11 ideographs + "十一" = 12 length tokens -> medium
    assert recs[1]["meta"]["length_tokens"] == 12
    assert recs[1]["bucket_id"] == "zh|multi|dialogue|medium"


def test_bucket_key_can_include_situation():
    (r,) = assign_buckets([rec("Paris")], [10, 25, 40], ["language", "situation", "length_bin"])
    assert r["bucket_id"] == "en|qa_search|short"


def test_rebucket_changes_only_the_bucket_id():
    recs = assign_buckets(
        [
            rec("Paris"),
            rec(
                "一 二 三 四 五 六 七 八 九 十 十一",
                language="zh",
                track="multi",
                family="dialogue",
                split="test",
            ),
        ],
        [10, 25, 40],
        ["language", "track", "family", "length_bin"],
    )
    no_length = rebucket(recs, ["language", "track", "family"])
    assert [r["bucket_id"] for r in no_length] == ["en|single|qa", "zh|multi|dialogue"]
    no_family = rebucket(recs, ["language", "track", "length_bin"])
    assert [r["bucket_id"] for r in no_family] == ["en|single|short", "zh|multi|medium"]
    # the records, their splits and length bins are the run's; the inputs keep their ids

    def rest(records):
        return [{k: v for k, v in r.items() if k != "bucket_id"} for r in records]

    assert rest(no_length) == rest(no_family) == rest(recs)
    assert [r["split"] for r in no_family] == ["train", "test"]
    assert [r["bucket_id"] for r in recs] == ["en|single|qa|short", "zh|multi|dialogue|medium"]
    with pytest.raises(InputError, match="bucket_key"):
        rebucket(recs, ["language", "colour"])


@pytest.mark.parametrize(
    "thresholds,key,match",
    [
        ([10, 5, 40], ["language"], "length_thresholds"),
        ([10, 25], ["language"], "length_thresholds"),
        ([10, 25, 40], ["language", "colour"], "bucket_key"),
        ([10, 25, 40], [], "bucket_key"),
    ],
)
def test_invalid_bucket_config_names_the_key(thresholds, key, match):
    with pytest.raises(InputError, match=match):
        assign_buckets([rec("x")], thresholds, key)


def test_statistics_flag_small_buckets_without_merging():
    train = assign_buckets([rec("a")] * 3 + [rec("b " * 30)], [10, 25, 40], ["language", "length_bin"])
    test = assign_buckets([rec("c", split="test")], [10, 25, 40], ["language", "length_bin"])
    stats = bucket_statistics({"train": train, "val": [], "test": test}, min_bucket_size=2)
    assert stats["buckets"]["en|short"] == {
        "train": 3,
        "val": 0,
        "test": 1,
        "total": 4,
        "train_length_tokens_median": 1,
        "small": False,
    }
    assert stats["buckets"]["en|long"]["small"] is True
    assert stats["small_buckets"] == ["en|long"]
    assert stats["n_buckets"] == 2
