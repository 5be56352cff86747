import pytest

from polyalign.data import build
from polyalign.data.registry import CorpusSpec
from polyalign.io import InputError

from ..conftest import make_raw


@pytest.fixture
def toy_corpus(monkeypatch):
    """Register a loader 'toy' that yields the raws put in source['rows']."""
    spec = CorpusSpec("toy", lambda source: iter(source["rows"]), {"train": 0.8, "val": 0.1, "test": 0.1})
    monkeypatch.setattr(build, "get_corpus", lambda key: spec)


def test_build_normalizes_splits_and_assigns_ids(toy_corpus):
    rows = [
        make_raw(question="  How   are\r\nyou? ", meta={"source_id": "a"}, split_key="k2"),
        make_raw(meta={"source_id": "b"}, split_key="x", history=[{"role": "user", "text": "hi"}]),
        make_raw(meta={"source_id": "c"}, source_split="val", human_answer="Other"),
    ]
    recs, report, log = build.build_corpus({"toy": {"rows": rows}}, seed=42)
    by_id = {r["id"]: r for r in recs}
    assert by_id["toy:a"]["question"] == "How are\nyou?"
    assert by_id["toy:a"]["split"] == "val"  # hash of k2 -> 0.876
    assert by_id["toy:b"]["split"] == "test"  # hash of x -> 0.980
    assert by_id["toy:b"]["track"] == "multi" and by_id["toy:a"]["track"] == "single"
    assert by_id["toy:c"]["split"] == "val"  # official split kept
    assert report["removed"] == 0
    assert log["corpora"]["toy"]["records"] == 3


@pytest.mark.parametrize(
    "override,match",
    [
        ({"human_answer": ""}, r"toy\.jsonl:1: field 'human_answer' is empty"),
        ({"human_answer": 3}, r"toy\.jsonl:1: field 'human_answer' should be str, got int"),
        ({"language": "fr"}, r"toy\.jsonl:1: field 'language' has invalid value 'fr'"),
        (
            {"human_answer": "这是中文"},
            r"toy\.jsonl:1: field 'human_answer' is not in the declared language 'en' \(mixed scripts\)",
        ),
        (
            {"language": "zh", "question": "你好", "human_answer": "Python"},
            r"field 'human_answer' is not in the declared language 'zh'",
        ),
        ({"history": [{"role": "bot", "text": "x"}]}, r"field 'history\[0\]' has invalid role"),
    ],
)
def test_bad_rows_fail_naming_where_and_field(toy_corpus, override, match):
    with pytest.raises(InputError, match=match):
        build.build_corpus({"toy": {"rows": [make_raw(**override)]}}, seed=42)


def test_missing_field(toy_corpus):
    raw = make_raw()
    del raw["context"]
    with pytest.raises(InputError, match=r"toy\.jsonl:1: missing field 'context'"):
        build.build_corpus({"toy": {"rows": [raw]}}, seed=42)


def test_mixed_chinese_with_english_word_is_accepted_and_known_bad_rows_skip(toy_corpus):
    ok = make_raw(language="zh", question="你用什么?", human_answer="我常使用 Python.")
    bad = make_raw(
        language="zh",
        question="你用什么?",
        human_answer="Python",
        where="zh/ai.yml:6",
        meta={"source_id": "2"},
    )
    recs, _, log = build.build_corpus({"toy": {"rows": [ok, bad], "known_bad_rows": ["ai.yml:6"]}}, seed=42)
    assert [r["human_answer"] for r in recs] == ["我常使用 Python."]
    assert log["corpora"]["toy"]["skipped"]["script_mismatch_known_bad"]["count"] == 1


def test_duplicate_ids_and_empty_corpus(toy_corpus):
    with pytest.raises(InputError, match="duplicate record id 'toy:1'"):
        build.build_corpus({"toy": {"rows": [make_raw(), make_raw(human_answer="Other")]}}, seed=42)
    with pytest.raises(InputError, match="produced no records"):
        build.build_corpus({"toy": {"rows": []}}, seed=42)


def test_embedded_fixture_end_to_end(fixtures_dir):
    corpora = {
        "chatterbot": {
            "path": str(fixtures_dir / "embedded" / "chatterbot_corpus"),
            "known_bad_rows": ["english/trivia.yml:6", "chinese/greetings.yml:6"],
        },
        "chitchat": {"path": str(fixtures_dir / "embedded" / "chitchat_dataset")},
    }
    recs, report, log = build.build_corpus(corpora, seed=42)
    # greetings conversations 0 and 2 are identical ("Hello" -> "Hi"): one is removed
    assert report["removed"] == 1
    assert {r["language"] for r in recs} == {"en", "zh"}
    # both listed rows are skipped by the loader before any record is built
    assert log["corpora"]["chatterbot"]["skipped"]["known_bad_rows"]["count"] == 2
    assert log["corpora"]["chitchat"]["skipped"]["empty_turn"]["count"] == 2
