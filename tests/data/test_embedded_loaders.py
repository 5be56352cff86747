import pytest

from polyalign.data.loaders import get_corpus
from polyalign.io import InputError


@pytest.fixture
def chatterbot_dir(fixtures_dir):
    return fixtures_dir / "embedded" / "chatterbot_corpus"


def load(key, **source):
    return list(get_corpus(key).load(source))


def test_chatterbot_records_per_turn_with_relative_roles(chatterbot_dir):
    source = {
        "path": str(chatterbot_dir),
        "languages": ["english"],
        "known_bad_rows": ["english/trivia.yml:6"],
    }
    recs = load("chatterbot", **source)
    by_id = {r["meta"]["source_id"]: r for r in recs}
    assert sorted(by_id) == [
        "english/greetings/0:1",
        "english/greetings/1:1",
        "english/greetings/1:2",
        "english/greetings/2:1",
        "english/trivia/0:1",
    ]
    third = by_id["english/greetings/1:2"]
    assert third["question"] == "I am doing well."
    assert third["human_answer"] == "That is good to hear"
    # the turn before the question is the responder's own earlier turn
    assert third["history"] == [{"role": "assistant", "text": "How are you doing?"}]
    assert (third["family"], third["situation"], third["language"]) == ("dialogue", "open_chat", "en")
    assert by_id["english/trivia/0:1"]["family"] == "qa"
    assert third["split_key"] == "chatterbot:english/greetings:1"
    assert third["where"].endswith("english/greetings.yml:6")


def test_chatterbot_broken_conversation_fails_naming_file_line_and_field(chatterbot_dir):
    with pytest.raises(InputError, match=r"trivia\.yml:6: field 'conversations\[1\]'"):
        load("chatterbot", path=str(chatterbot_dir), languages=["english"])


def test_chatterbot_wrong_type_and_malformed_yaml(tmp_path):
    d = tmp_path / "english"
    d.mkdir()
    (d / "humor.yml").write_text("categories:\n- humor\nconversations:\n- - Tell me a joke\n  - 42\n")
    with pytest.raises(
        InputError, match=r"humor\.yml:5: field 'conversations\[0\]\[1\]' should be a string, got int"
    ):
        load("chatterbot", path=str(tmp_path), languages=["english"])
    (d / "humor.yml").write_text("categories:\n- humor\nconversations:\n- - [unclosed\n")
    with pytest.raises(InputError, match=r"humor\.yml:\d+: malformed YAML"):
        load("chatterbot", path=str(tmp_path), languages=["english"])
    (d / "humor.yml").write_text("categories:\n- humor\n")
    with pytest.raises(InputError, match=r"humor\.yml:1: missing field 'conversations'"):
        load("chatterbot", path=str(tmp_path), languages=["english"])


def test_chitchat_joins_consecutive_messages_and_skips_empty_turns(fixtures_dir):
    source = {"path": str(fixtures_dir / "embedded" / "chitchat_dataset")}
    recs = list(get_corpus("chitchat").load(source))
    by_id = {r["meta"]["source_id"]: r for r in recs}
    # conv-a turns: [Hello\nHow are you doing today?, im doing good, "", what  do you   study?]
    # turn 2 (answer "") and turn 3 (question "") are skipped
    assert sorted(by_id) == ["conv-a:1", "conv-b:1"]
    assert by_id["conv-a:1"]["question"] == "Hello\nHow are you doing today?"
    assert by_id["conv-a:1"]["human_answer"] == "im doing good"
    assert source["_skipped"]["empty_turn"] == [
        f"{fixtures_dir / 'embedded' / 'chitchat_dataset' / 'dataset.json'}: conversation conv-a turn 2",
        f"{fixtures_dir / 'embedded' / 'chitchat_dataset' / 'dataset.json'}: conversation conv-a turn 3",
    ]


def test_chitchat_bad_input(tmp_path, fixtures_dir):
    path = tmp_path / "dataset.json"
    path.write_text('{"c1": {"messages": [[{"text": "hi"}], [{"txt": "yo"}]]}}')
    with pytest.raises(InputError, match=r"conversation c1: missing field 'messages\[1\]\[0\]\.text'"):
        load("chitchat", path=str(tmp_path))
    path.write_text('{"c1": {"messages": [[{"text": "hi"}], [{"text": 5}]]}}')
    with pytest.raises(InputError, match=r"'messages\[1\]\[0\]\.text' should be a string, got int"):
        load("chitchat", path=str(tmp_path))
    path.write_text('{"c1": {"messages": [[{"text": "hi"}]\n')
    with pytest.raises(InputError, match=r"dataset\.json:2: malformed JSON"):
        load("chitchat", path=str(tmp_path))


def test_unknown_corpus():
    with pytest.raises(KeyError, match="unknown corpus 'nope'"):
        get_corpus("nope")
