"""Paper-scale corpus build: bad rows dropped and counted per reason, a drop report, and a
maximum drop rate that fails loudly."""

import pytest

from polyalign.data import build
from polyalign.data.registry import CorpusSpec
from polyalign.io import InputError

from ..conftest import make_raw


@pytest.fixture
def toy_corpus(monkeypatch):
    spec = CorpusSpec("toy", lambda source: iter(source["rows"]), {"train": 0.8, "val": 0.1, "test": 0.1})
    monkeypatch.setattr(build, "get_corpus", lambda key: spec)


def rows():
    good = [
        make_raw(
            meta={"source_id": str(i)},
            split_key=f"k{i}",
            where=f"toy.jsonl:{i}",
            human_answer=f"Answer number {i}.",
        )
        for i in range(7)
    ]
    mixed = make_raw(
        meta={"source_id": "m"}, split_key="km", where="toy.jsonl:7", human_answer="I love 北京 food."
    )
    nba = make_raw(
        meta={"source_id": "n"},
        split_key="kn",
        where="toy.jsonl:8",
        language="zh",
        question="谁赢了？",
        human_answer="NBA",
    )
    malformed = make_raw(meta={"source_id": "x"}, split_key="kx", where="toy.jsonl:9", history="not a list")
    return good + [mixed, nba, malformed]


def test_bad_rows_are_dropped_counted_and_listed(toy_corpus):
    recs, _, log = build.build_corpus({"toy": {"rows": rows()}}, seed=42, max_drop_rate=0.3)
    assert sorted(r["id"] for r in recs) == [f"toy:{i}" for i in range(7)]
    dropped = log["corpora"]["toy"]["dropped"]
    assert log["corpora"]["toy"]["rows_seen"] == 10
    assert dropped["count"] == 3 and dropped["rate"] == pytest.approx(0.3)
    assert dropped["by_reason"] == {"malformed": 1, "mixed_script": 2}
    report = build.drop_report(log)
    assert report["total_dropped"] == 3 and report["max_drop_rate"] == 0.3
    assert [r["where"] for r in report["corpora"]["toy"]["rows"]] == [
        "toy.jsonl:7",
        "toy.jsonl:8",
        "toy.jsonl:9",
    ]


def test_exceeding_the_rate_fails_with_the_counts(toy_corpus):
    with pytest.raises(
        InputError, match=r"corpus 'toy': 3 of 10 rows dropped \(30.0%.*mixed_script.*max_drop_rate=25.0%"
    ):
        build.build_corpus({"toy": {"rows": rows()}}, seed=42, max_drop_rate=0.25)


def test_without_a_rate_the_first_bad_row_still_stops_the_build(toy_corpus):
    with pytest.raises(InputError, match="toy.jsonl:7"):
        build.build_corpus({"toy": {"rows": rows()}}, seed=42)


def test_known_bad_rows_are_not_counted_as_drops(toy_corpus):
    recs, _, log = build.build_corpus(
        {"toy": {"rows": rows()[:8], "known_bad_rows": ["toy.jsonl:7"]}}, seed=42, max_drop_rate=0.0
    )
    assert len(recs) == 7 and log["corpora"]["toy"]["dropped"]["count"] == 0
    assert log["corpora"]["toy"]["skipped"]["script_mismatch_known_bad"]["count"] == 1
