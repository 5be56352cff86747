"""Loaders of the paper's 14 corpora, run on the tiny fixtures in each source's real layout
(tests/fixtures/corpora/<key>, written by make_fixtures.py) through the same code path as a
networked user: `datasets.load_dataset` on the repository copy, or the original files."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from polyalign.config import schema_default
from polyalign.data.loaders import get_corpus
from polyalign.io import InputError
from polyalign.records import validate_raw

from ..paper_models import PAPER_CORPORA

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "corpora"
KEYS = PAPER_CORPORA
LANG = {k: "zh" for k in ("coig_cqia", "hc3_chinese", "oasst2_zh", "cmrc2018", "drcd", "dureader")}
HASHED = {
    "dolly": 3,
    "coqa": 2,
    "squad_v2": 2,
    "natural_questions": 3,
    "coig_cqia": 3,
    "hc3_chinese": 3,
    "oasst2_zh": 2,
}  # key -> number of split labels in its registered split_weights

pytestmark = pytest.mark.usefixtures("hf_offline")
_CACHE: dict[str, tuple[list[dict], dict]] = {}


def load(key: str, hf_cache: Path) -> tuple[list[dict], dict]:
    """(records, skip counts) of a fixture corpus; each corpus is loaded once per test session."""
    if key not in _CACHE:
        source = {"path": str(FIXTURES / key), "cache_dir": str(hf_cache / "datasets")}
        records = list(get_corpus(key).load(source))
        _CACHE[key] = records, dict(source.get("_skipped", {}))
    return _CACHE[key]


def by_id(records: list[dict]) -> dict[str, dict]:
    return {r["meta"]["source_id"]: r for r in records}


def u(text: str) -> dict:
    return {"role": "user", "text": text}


def a(text: str) -> dict:
    return {"role": "assistant", "text": text}


@pytest.mark.parametrize("key", KEYS)
def test_every_record_is_valid(key, hf_cache):
    records, _ = load(key, hf_cache)
    assert records
    ids = [r["meta"]["source_id"] for r in records]
    assert len(ids) == len(set(ids))
    spec = get_corpus(key)
    for r in records:
        validate_raw(r, r["where"], schema_default("corpus_build", "max_field_chars"))
        assert r["dataset"] == key
        assert r["language"] == LANG.get(key, "en")
        assert r["split_key"].startswith(f"{key}:")
        assert isinstance(r["where"], str) and r["where"]
        assert r["source_split"] in (None, "train", "val", "test")
        if r["source_split"] is None:
            assert spec.split_weights is not None
    assert (spec.split_weights is None) == (key not in HASHED)
    if key in HASHED:
        assert len(spec.split_weights) == HASHED[key] and sum(spec.split_weights.values()) == pytest.approx(1)


def test_dolly(hf_cache):
    records, skipped = load("dolly", hf_cache)
    assert skipped == {"empty_answer": 1, "empty_question": 1}
    assert [r["meta"]["source_id"] for r in records] == ["0", "1", "3"]
    r = by_id(records)["1"]
    assert r["question"] == "Summarize the paragraph in one sentence."
    assert r["context"].startswith("The town library opened in 1921.")
    assert (
        r["human_answer"]
        == "The library, opened in 1921, moved in 1988 and gained a children's wing in 2004."
    )
    assert (r["family"], r["situation"], r["history"], r["source_split"]) == (
        "assistant",
        "assistant_like",
        [],
        None,
    )
    assert r["meta"]["category"] == "summarization"
    assert r["where"].endswith("dolly[train]:row 1")
    assert len({x["split_key"] for x in records}) == 3


def test_eli5(hf_cache):
    records, skipped = load("eli5", hf_cache)
    assert skipped == {"no_answer": 1}
    r = by_id(records)
    assert {k: v["source_split"] for k, v in r.items()} == {
        "t1abc": "train",
        "v1ghi": "val",
        "v2jkl": "test",
        "s1mno": "test",
    }
    # highest score wins; of two equal scores the first
    assert r["t1abc"]["human_answer"].startswith("Cutting them breaks cells")
    assert r["t1abc"]["meta"]["answer_id"] == "a2"
    assert r["t1abc"]["question"] == "Why do onions make you cry ?"
    assert (
        r["v1ghi"]["question"]
        == "Why do some songs get stuck in your head ?\n\nI hum the same chorus all day long ."
    )
    assert r["v2jkl"]["meta"]["source_split"] == "validation2"
    assert r["s1mno"]["split_key"] == "eli5:s1mno" and r["s1mno"]["situation"] == "longform_qa"


def test_dailydialog(hf_cache):
    records, skipped = load("dailydialog", hf_cache)
    assert skipped == {}
    r = by_id(records)
    # turn 1 of each of the 4 dialogues is kept with an empty history (single track)
    assert sorted(r) == [
        "test-1:1",
        "test-1:3",
        "train-1:1",
        "train-1:3",
        "train-1:5",
        "train-2:1",
        "validation-1:1",
        "validation-1:3",
    ]
    assert r["train-1:1"]["history"] == [] and r["train-1:1"]["question"] == "Hi , are you free tonight ?"
    t5 = r["train-1:5"]
    assert t5["question"] == "The new space film ."
    assert t5["human_answer"] == "Sounds good , let's meet at seven ."
    assert t5["history"] == [
        u("Hi , are you free tonight ?"),
        a("Yes , what's up ?"),
        u("Do you want to see a movie ?"),
        a("Sure , which one ?"),
    ]
    assert t5["source_split"] == "train" and t5["split_key"] == "dailydialog:train-1"
    assert t5["where"].endswith("train.zip!train/dialogues_train.txt:1 turn 5")
    assert r["validation-1:3"]["source_split"] == "val"
    assert r["test-1:3"]["history"] == [u("Can I help you ?"), a("I'm looking for a scarf .")]


def test_ms_marco(hf_cache):
    records, skipped = load("ms_marco", hf_cache)
    assert skipped == {"no_answer": 2}  # "No Answer Present." and no answers at all
    r = by_id(records)
    assert {k: v["source_split"] for k, v in r.items()} == {
        "train:1001": "train",
        "train:1002": "train",
        "validation:2001": "val",
        "test:3001": "test",
        "test:3002": "test",
    }
    assert r["train:1001"]["human_answer"] == "A marathon is 26.2 miles long."  # well-formed answer first
    assert (
        r["train:1001"]["context"] == "The marathon distance is 26.2 miles, or 42.195 km."
    )  # selected passage
    assert r["train:1002"]["context"] == (
        "A baker's dozen is thirteen.\n\nBakers once added an extra loaf.\n\n"
        "The term dates from medieval England."
    )  # none selected: first 3
    assert (
        r["validation:2001"]["human_answer"] == "The process plants use to turn light into chemical energy."
    )
    assert r["validation:2001"]["context"].count("\n\n") == 1
    assert r["test:3001"]["question"] == "capital of france" and r["test:3001"]["human_answer"] == "Paris"


def test_coqa(hf_cache):
    records, skipped = load("coqa", hf_cache)
    assert skipped == {"empty_answer": 1}
    r = by_id(records)
    assert sorted(r) == [
        "train/0/0",
        "train/0/1",
        "train/0/2",
        "train/1/0",
        "train/1/2",
        "validation/0/0",
        "validation/0/1",
    ]
    t2 = r["train/0/2"]
    assert t2["question"] == "What did she name it?" and t2["human_answer"] == "Pebble"
    assert t2["context"].startswith("Anna found a small gray kitten")
    assert t2["history"] == [
        u("What did Anna find?"),
        a("a small gray kitten"),
        u("Where was it?"),
        a("under the porch"),
    ]
    assert r["train/0/0"]["history"] == []
    assert t2["source_split"] is None and t2["split_key"] == r["train/0/0"]["split_key"]
    assert r["train/1/0"]["split_key"] != t2["split_key"]
    # the skipped empty answer is left out of the history; "unknown" is kept and flagged
    assert r["train/1/2"]["history"] == [u("When does the museum close?"), a("at five on weekdays")]
    assert r["train/1/2"]["meta"]["unknown_answer"] is True
    assert r["validation/0/1"]["source_split"] == "test"
    assert r["validation/0/1"]["history"] == [u("When does the river freeze?"), a("every January")]


def test_squad_v2(hf_cache):
    records, skipped = load("squad_v2", hf_cache)
    assert skipped == {}
    r = by_id(records)
    assert r["sq1"]["human_answer"] == "the gravity of the Moon" and r["sq1"]["source_split"] is None
    assert r["sq3"]["human_answer"] == "the oceans"
    assert r["sq2"]["human_answer"] == "" and r["sq2"]["meta"]["unanswerable"] is True
    assert "unanswerable" not in r["sq1"]["meta"]
    assert r["sq1"]["split_key"] == r["sq2"]["split_key"] == r["sq3"]["split_key"]  # one paragraph
    assert r["sq4"]["source_split"] == "test" and r["sq5"]["meta"]["unanswerable"] is True
    assert r["sq4"]["context"].startswith("Honey bees communicate")


def test_natural_questions(hf_cache):
    records, skipped = load("natural_questions", hf_cache)
    assert skipped == {"empty_answer": 1}
    r = by_id(records)
    assert sorted(r) == ["0", "1", "3"]
    assert r["1"]["question"] == "how many strings does a violin have"
    assert r["1"]["human_answer"].startswith("A violin usually has four strings")
    assert r["1"]["source_split"] is None and r["1"]["context"] == ""


def test_multiwoz(hf_cache):
    records, skipped = load("multiwoz", hf_cache)
    assert skipped == {}
    r = by_id(records)
    # the first SYSTEM turn of each dialogue is kept with an empty history (single track)
    assert sorted(r) == [
        "MUL0001.json:1",
        "MUL0001.json:3",
        "MUL0001.json:5",
        "PMUL0002.json:1",
        "PMUL0002.json:3",
        "SNG0003.json:1",
        "SNG0003.json:3",
    ]
    assert (
        r["MUL0001.json:1"]["history"] == []
        and r["MUL0001.json:1"]["question"] == "I need a cheap hotel in the north."
    )
    t5 = r["MUL0001.json:5"]
    assert t5["question"] == "Book it for two nights."
    assert t5["human_answer"] == "Booked. Your reference is AB12CD."
    assert t5["history"] == [
        u("I need a cheap hotel in the north."),
        a("There are two. Do you need parking?"),
        u("Yes, free parking please."),
        a("The Acorn Lodge has free parking. Shall I book it?"),
    ]
    assert (t5["situation"], t5["source_split"], t5["split_key"]) == (
        "task_dialogue",
        "train",
        "multiwoz:MUL0001.json",
    )
    assert r["PMUL0002.json:3"]["source_split"] == "val" and r["SNG0003.json:3"]["source_split"] == "test"


def test_coig_cqia(hf_cache):
    records, skipped = load("coig_cqia", hf_cache)
    assert skipped == {"answer_not_human": 1, "not_human_verified": 1, "empty_answer": 1}
    assert len(records) == 12
    assert {r["meta"]["subset"] for r in records} == {
        "chinese_traditional",
        "coig_pc",
        "douban",
        "exam",
        "finance",
        "human_value",
        "logi_qa",
        "ruozhiba",
        "segmentfault",
        "wikihow",
        "xhs",
        "zhihu",
    }
    r = by_id(records)
    assert r["coig_pc/0"]["question"] == "判断下面句子的情感倾向。"
    assert r["coig_pc/0"]["context"] == "这家店的服务太差了。" and r["coig_pc/0"]["human_answer"] == "负面"
    assert "ruozhiba/1" not in r and "zhihu/1" not in r
    assert r["ruozhiba/0"]["source_split"] is None and r["ruozhiba/0"]["family"] == "assistant"


def test_hc3_chinese(hf_cache):
    records, skipped = load("hc3_chinese", hf_cache)
    assert skipped == {"empty_human_answer": 1, "question_without_human_answer": 1}
    r = by_id(records)
    assert sorted(r) == ["0:0", "0:1", "2:0"]
    assert r["0:1"]["question"] == "什么是通货膨胀？" and r["0:1"]["human_answer"] == "就是钱越来越不值钱了。"
    assert r["0:0"]["split_key"] == r["0:1"]["split_key"] != r["2:0"]["split_key"]  # per question
    assert all("机器" not in x["human_answer"] and "一般物价水平" not in x["human_answer"] for x in records)
    assert r["2:0"]["situation"] == "longform_qa" and r["2:0"]["meta"]["domain"] == "open_qa"


def test_oasst2_zh(hf_cache):
    records, skipped = load("oasst2_zh", hf_cache)
    assert skipped == {
        "not_reviewed": 1,
        "ancestor_deleted": 1,
        "not_chinese": 1,
        "synthetic": 1,
        "not_ready_for_export": 1,
    }
    r = by_id(records)
    assert sorted(r) == ["m11", "m2", "m21", "m4"]
    m4 = r["m4"]
    assert m4["question"] == "还有别的吗？" and m4["human_answer"] == "《人类简史》也很受欢迎，视角很宏大。"
    assert m4["history"] == [
        u("你好，能推荐一本关于历史的书吗？"),
        a("可以试试《万历十五年》，写得生动易读。"),
    ]
    assert m4["source_split"] is None and m4["split_key"] == "oasst2_zh:t1" == r["m2"]["split_key"]
    assert r["m2"]["history"] == [] and r["m11"]["meta"]["lang"] == "zh-CN"
    assert r["m21"]["source_split"] == "test" and r["m21"]["split_key"] == "oasst2_zh:t5"


def test_cmrc2018(hf_cache):
    records, skipped = load("cmrc2018", hf_cache)
    assert skipped == {"no_answer": 1}
    r = by_id(records)
    assert {k: v["source_split"] for k, v in r.items()} == {
        "train:TRAIN_1_QUERY_0": "train",
        "validation:DEV_1_QUERY_0": "val",
        "test:TRIAL_1_QUERY_0": "test",
    }
    assert r["train:TRAIN_1_QUERY_0"]["human_answer"] == "北京"  # first non-empty answer
    assert r["test:TRIAL_1_QUERY_0"]["context"] == "熊猫主要以竹子为食，生活在四川等地的山林中。"


def test_drcd(hf_cache):
    records, skipped = load("drcd", hf_cache)
    assert skipped == {"no_answer": 1}
    r = by_id(records)
    assert {k: v["source_split"] for k, v in r.items()} == {
        "train:1001-1-1": "train",
        "train:1001-2-1": "train",
        "dev:2001-1-1": "val",
        "test:3001-1-1": "test",
    }
    x = r["train:1001-2-1"]
    assert (x["question"], x["human_answer"]) == ("哪座建築曾是世界最高？", "台北一〇一")
    assert x["context"] == "台北一〇一曾是世界最高的建築物。" and x["split_key"] == "drcd:1001-2"
    assert x["meta"]["title"] == "台北"


def test_dureader(hf_cache):
    records, skipped = load("dureader", hf_cache)
    assert skipped == {"no_answer": 1, "impossible": 1}
    r = by_id(records)
    assert {k: v["source_split"] for k, v in r.items()} == {
        "robust:train:r1": "train",
        "robust:dev:r3": "val",
        "checklist:train:c1": "train",
        "checklist:dev:c3": "val",
    }
    c1 = r["checklist:train:c1"]
    assert (c1["question"], c1["human_answer"]) == ("手机充电时应该注意什么？", "不要边充边玩")
    assert (
        c1["context"] == "手机充电时最好不要边充边玩，以免电池过热。" and c1["meta"]["qa_type"] == "in-domain"
    )
    assert "dureader_checklist.dataset.tar.gz!dataset/train.json" in c1["where"]


# ------------------------------------------------------------------------------ bad input


def test_row_missing_a_column_names_file_and_row(tmp_path, hf_cache):
    src = tmp_path / "dolly"
    shutil.copytree(FIXTURES / "dolly", src)
    with open(src / "databricks-dolly-15k.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"instruction": "Name a color.", "context": "", "category": "open_qa"}) + "\n")
    with pytest.raises(InputError, match=r"dolly\[train\]:row 5: missing required column 'response'"):
        list(get_corpus("dolly").load({"path": str(src), "cache_dir": str(hf_cache / "datasets")}))
    # a row listed in known_bad_rows is skipped and counted instead
    source = {
        "path": str(src),
        "cache_dir": str(hf_cache / "datasets"),
        "known_bad_rows": ["dolly[train]:row 5"],
    }
    assert len(list(get_corpus("dolly").load(source))) == 3
    assert source["_skipped"]["known_bad_rows"] == 1


def test_broken_json_names_file_and_line(tmp_path):
    src = tmp_path / "multiwoz"
    shutil.copytree(FIXTURES / "multiwoz", src)
    path = src / "dev" / "dialogues_001.json"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[3].strip() == '"services": ['
    lines[3] += ","  # line 4 becomes `"services": [,`
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match=r"dev/dialogues_001\.json:4: malformed JSON"):
        list(get_corpus("multiwoz").load({"path": str(src)}))


def test_broken_jsonl_line_in_hub_file_names_the_file_and_line(tmp_path, hf_cache):
    src = tmp_path / "hc3_chinese"
    shutil.copytree(FIXTURES / "hc3_chinese", src)
    with open(src / "all.jsonl", "a", encoding="utf-8") as f:
        f.write('{"question": "坏掉的一行", "human_answers": [\n')
    with pytest.raises(InputError, match=r"all\.jsonl:4: malformed JSON line"):
        list(get_corpus("hc3_chinese").load({"path": str(src), "cache_dir": str(hf_cache / "datasets")}))


def test_wrong_type_and_missing_files(tmp_path):
    eli5 = tmp_path / "eli5"
    shutil.copytree(FIXTURES / "eli5", eli5)
    rows = [{"q_id": "x1", "title": 42, "selftext": "", "answers": {"a_id": [], "text": [], "score": []}}]
    (eli5 / "eli5-category-test.json.gz").write_bytes(gzip.compress(json.dumps(rows).encode()))
    with pytest.raises(
        InputError, match=r"eli5-category-test\.json\.gz:row 0: column 'title' should be str, got int"
    ):
        list(get_corpus("eli5").load({"path": str(eli5)}))
    (eli5 / "eli5-category-test.json.gz").unlink()
    with pytest.raises(InputError, match=r"eli5-category-test\.json\.gz: file not found"):
        list(get_corpus("eli5").load({"path": str(eli5)}))
    with pytest.raises(InputError, match=r"corpora\.dureader\.path: not set"):
        list(get_corpus("dureader").load({}))
    with pytest.raises(InputError, match="no such directory"):
        list(get_corpus("cmrc2018").load({"path": str(tmp_path / "missing" / "cmrc2018")}))


def test_default_path_is_the_hub_id_and_offline_fails_cleanly(hf_cache):
    with pytest.raises(InputError, match=r"^databricks/databricks-dolly-15k\[train\]: cannot load"):
        list(get_corpus("dolly").load({"cache_dir": str(hf_cache / "datasets")}))
