"""Bad input, one test per class (issue 12): each is a named error (file and line, or the
build log counts it) raised before the corpus build writes any output."""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from polyalign.config import schema_default
from polyalign.data.build import build_corpus
from polyalign.data.loaders import get_corpus
from polyalign.io import InputError, iter_jsonl, read_json, write_json, write_jsonl

from ..conftest import FIXTURES

ZWSP, NBSP, IDEOGRAPHIC_SPACE, BOM = "\u200b", "\u00a0", "\u3000", "\ufeff"


@pytest.fixture
def corpus(tmp_path):
    """A writable copy of the embedded fixture corpora and the corpora config that reads it."""
    root = tmp_path / "data"
    shutil.copytree(FIXTURES / "embedded", root)
    corpora = {
        "chatterbot": {
            "path": str(root / "chatterbot_corpus"),
            "languages": ["english", "chinese"],
            "known_bad_rows": ["english/trivia.yml:6", "chinese/greetings.yml:6"],
        },
        "chitchat": {"path": str(root / "chitchat_dataset")},
    }
    return root, corpora


def build(corpora: dict, out: Path):
    """What rule build_corpus does: build, then write the three outputs."""
    records, report, log = build_corpus(corpora, seed=0)
    write_jsonl(out / "records.jsonl", records)
    write_json(out / "dedup_report.json", report)
    write_json(out / "build_log.json", log)
    return log


def fails_before_output(corpora: dict, out: Path, match: str) -> str:
    with pytest.raises(InputError, match=match) as e:
        build(corpora, out)
    assert not out.exists() or not any(out.iterdir()), "output written before the error"
    return str(e.value)


def greetings(root: Path, lang: str = "english") -> Path:
    return root / "chatterbot_corpus" / lang / "greetings.yml"


def test_the_fixture_corpus_builds(corpus, tmp_path):
    _, corpora = corpus
    log = build(corpora, tmp_path / "out")
    assert log["corpora"]["chatterbot"]["records"] > 0 and log["corpora"]["chitchat"]["records"] > 0


def test_invalid_utf8_in_yaml_names_file_line_and_offset(corpus, tmp_path):
    root, corpora = corpus
    path = greetings(root)
    data = path.read_bytes().replace(b"How are you", b"How \xff are you")
    path.write_bytes(data)
    offset = data.index(b"\xff")
    line = data[:offset].count(b"\n") + 1
    fails_before_output(
        corpora, tmp_path / "out", rf"greetings\.yml:{line}: invalid UTF-8 at byte offset {offset}"
    )


def test_invalid_utf8_in_json_names_file_and_offset(corpus, tmp_path):
    root, corpora = corpus
    path = root / "chitchat_dataset" / "dataset.json"
    path.write_bytes(b'{"a": "\xc3\x28"}')
    fails_before_output(corpora, tmp_path / "out", r"dataset\.json:1: invalid UTF-8 at byte offset 7")


def test_invalid_utf8_in_jsonl_names_the_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": "\xe4\xb8"}\n')
    with pytest.raises(InputError, match=r"rows\.jsonl:2: invalid UTF-8 at byte offset 16"):
        list(iter_jsonl(path))
    with pytest.raises(InputError, match=r"rows\.jsonl:2: invalid UTF-8"):
        read_json(path)


def test_invalid_utf8_in_a_gzip_archive_is_named(tmp_path):
    src = tmp_path / "eli5"
    shutil.copytree(FIXTURES / "corpora" / "eli5", src)
    target = src / "eli5-category-train.json.gz"
    with gzip.open(target, "rb") as f:
        data = f.read()
    with gzip.open(target, "wb") as f:
        f.write(data[:10] + b"\xff" + data[10:])
    with pytest.raises(
        InputError, match=r"eli5-category-train\.json\.gz \(decompressed\):1: invalid UTF-8 at byte offset 10"
    ):
        list(get_corpus("eli5").load({"path": str(src)}))


def test_invalid_utf8_in_a_zip_member_names_the_line(tmp_path):
    src = tmp_path / "dailydialog"
    shutil.copytree(FIXTURES / "corpora" / "dailydialog", src)
    archive = src / "train.zip"
    with zipfile.ZipFile(archive) as z:
        members = {n: z.read(n) for n in z.namelist()}
    name = "train/dialogues_train.txt"
    members[name] = members[name].split(b"\n", 1)[0] + b"\n\xfe broken __eou__ line __eou__\n"
    with zipfile.ZipFile(archive, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    with pytest.raises(InputError, match=r"train\.zip!train/dialogues_train\.txt:2: invalid UTF-8"):
        list(get_corpus("dailydialog").load({"path": str(src)}))


def test_invalid_utf8_in_hc3_names_the_line(tmp_path):
    src = tmp_path / "hc3_chinese"
    shutil.copytree(FIXTURES / "corpora" / "hc3_chinese", src)
    with open(src / "all.jsonl", "ab") as f:
        f.write(b'{"question": "\xe4", "human_answers": []}\n')
    n_lines = (src / "all.jsonl").read_bytes().count(b"\n")
    with pytest.raises(InputError, match=rf"all\.jsonl:{n_lines}: invalid UTF-8"):
        list(get_corpus("hc3_chinese").load({"path": str(src)}))


@pytest.mark.parametrize("node, kind", [("hello", "str"), ("5", "int"), ("{a: b}", "mapping")])
def test_conversations_of_the_wrong_type_are_named(corpus, tmp_path, node, kind):
    root, corpora = corpus
    greetings(root).write_text(f"categories:\n- greetings\nconversations: {node}\n", encoding="utf-8")
    fails_before_output(
        corpora, tmp_path / "out", rf"greetings\.yml:3: field 'conversations' must be a list, got {kind}"
    )


def test_categories_of_the_wrong_type_are_named(corpus, tmp_path):
    root, corpora = corpus
    greetings(root).write_text("categories: greetings\nconversations:\n- [Hi, Hello]\n", encoding="utf-8")
    fails_before_output(
        corpora, tmp_path / "out", r"greetings\.yml:1: field 'categories' must be a list, got str"
    )


def test_empty_conversations_and_empty_files_are_counted_in_the_build_log(corpus, tmp_path):
    root, corpora = corpus
    greetings(root).write_text("categories:\n- greetings\nconversations:\n", encoding="utf-8")
    (root / "chatterbot_corpus" / "english" / "emotion.yml").write_text("", encoding="utf-8")
    log = build(corpora, tmp_path / "out")
    skipped = log["corpora"]["chatterbot"]["skipped"]
    assert skipped["empty_conversations"]["count"] == 1
    assert skipped["empty_conversations"]["examples"][0].endswith("english/greetings.yml")
    assert skipped["empty_file"]["count"] == 1
    assert skipped["empty_file"]["examples"][0].endswith("english/emotion.yml")


@pytest.mark.parametrize("blank", [ZWSP, f" {ZWSP}{NBSP}", IDEOGRAPHIC_SPACE, f"{BOM}\u2060", "\u200d\u200c"])
def test_invisible_answer_is_rejected_with_its_line(corpus, tmp_path, blank):
    root, corpora = corpus
    path = greetings(root)
    path.write_text(
        path.read_text(encoding="utf-8").replace("  - Hi\n", f'  - "{blank}"\n', 1), encoding="utf-8"
    )
    fails_before_output(corpora, tmp_path / "out", r"greetings\.yml:4: field 'human_answer' is empty")


def test_invisible_question_is_rejected(corpus, tmp_path):
    root, corpora = corpus
    path = greetings(root)
    path.write_text(
        path.read_text(encoding="utf-8").replace("- - Hello\n", f'- - "{ZWSP}"\n', 1), encoding="utf-8"
    )
    fails_before_output(corpora, tmp_path / "out", r"greetings\.yml:4: field 'question' is empty")


def test_invisible_chitchat_turn_is_skipped_and_counted(corpus, tmp_path):
    root, corpora = corpus
    path = root / "chitchat_dataset" / "dataset.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    cid = min(data)
    data[cid]["messages"][1][0]["text"] = ZWSP
    path.write_text(json.dumps(data), encoding="utf-8")
    log = build(corpora, tmp_path / "out")
    assert any(
        f"conversation {cid} turn 1" in w
        for w in log["corpora"]["chitchat"]["skipped"]["empty_turn"]["examples"]
    )


@pytest.mark.parametrize(
    "lang, text, letters",
    [
        ("english", "Привет, друг", "Привет"),  # Cyrillic in English
        ("english", "Hello καλημέρα", "καλημέρ"),  # Greek in English
        ("chinese", "こんにちは", "こんにちは"),  # kana in Chinese
        ("chinese", "你好 안녕", "안녕"),  # Hangul in Chinese
    ],
)
def test_text_in_a_script_of_neither_language_is_mixed_script(corpus, tmp_path, lang, text, letters):
    root, corpora = corpus
    path = greetings(root, lang)
    lines = path.read_text(encoding="utf-8").splitlines()
    answer_line = next(i for i, line in enumerate(lines) if line.startswith("  - "))
    lines[answer_line] = f"  - {text}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    msg = fails_before_output(
        corpora,
        tmp_path / "out",
        r"greetings\.yml:\d+: field 'human_answer' is not in the "
        r"declared language .* \(mixed scripts: letters",
    )
    assert letters[:5] in msg


def test_a_chinese_answer_quoting_english_is_not_mixed_script():
    from polyalign.records import script_mismatch

    assert not script_mismatch("我喜欢 Python 和 µm", "zh")
    assert not script_mismatch("Café au lait, naïve, 10 µm", "en")
    assert script_mismatch("我喜欢ひらがな", "zh") and script_mismatch("Hello Ωmega", "en")


# --------------------------------------------------------------------------- issue 26


def test_repeated_yaml_key_names_both_lines(corpus, tmp_path):
    """Class: a repeated `conversations:` key (YAML kept only the last block, 3 conversations lost)."""
    root, corpora = corpus
    path = greetings(root)
    path.write_text(
        path.read_text(encoding="utf-8") + "conversations:\n- - Bye\n  - See you\n", encoding="utf-8"
    )
    last = path.read_text(encoding="utf-8").splitlines().index("conversations:", 3) + 1
    fails_before_output(
        corpora, tmp_path / "out", rf"greetings\.yml:{last}: key 'conversations' repeated \(first at line 3\)"
    )


def test_repeated_chitchat_conversation_id_names_its_lines(corpus, tmp_path):
    """Class: a conversation id given twice in dataset.json (JSON kept only the last)."""
    root, corpora = corpus
    path = root / "chitchat_dataset" / "dataset.json"
    text = path.read_text(encoding="utf-8")
    first = text[: text.index('"conv-a"')].count("\n") + 1
    second = text[: text.index('"conv-b"')].count("\n") + 1
    path.write_text(text.replace('"conv-b"', '"conv-a"'), encoding="utf-8")
    fails_before_output(
        corpora,
        tmp_path / "out",
        rf"dataset\.json:{second}: key 'conv-a' repeated \(lines {first}, {second}\)",
    )


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85"])
def test_control_character_in_text_names_file_line_and_field(corpus, tmp_path, char):
    """Class: NUL and other control characters inside text (kept verbatim)."""
    root, corpora = corpus
    path = greetings(root)
    escaped = json.dumps(f"Hi{char}there")  # a YAML double-quoted scalar takes JSON's escapes
    path.write_text(
        path.read_text(encoding="utf-8").replace("  - Hi\n", f"  - {escaped}\n", 1), encoding="utf-8"
    )
    fails_before_output(
        corpora,
        tmp_path / "out",
        rf"greetings\.yml:4: field 'human_answer' holds control character U\+{ord(char):04X} at offset 2",
    )


@pytest.mark.parametrize(
    "question,answer",
    [
        (f"Hel{ZWSP}lo", "Hi"),  # zero-width space inside a word
        ("Hello", f"{BOM}Hi"),  # byte-order mark
        ("Hello", "H\u2060i\u200d"),  # word joiner, zero-width joiner
        (f"Hello{NBSP}", f"{NBSP}Hi"),  # no-break spaces
        ("HELLO", f"hi{ZWSP}"),  # case and a zero-width space together
    ],
)
def test_invisible_character_variant_of_a_record_is_deduplicated(corpus, tmp_path, question, answer):
    """Class: zero-width / BOM / no-break-space near-duplicates kept as distinct records."""
    root, corpora = corpus
    before = build(corpora, tmp_path / "before")
    path = greetings(root)
    variant = f"- - {json.dumps(question)}\n  - {json.dumps(answer)}\n"  # YAML takes JSON's escapes
    path.write_text(path.read_text(encoding="utf-8") + variant, encoding="utf-8")
    after = build(corpora, tmp_path / "after")
    # the build read one record more, and the dedup removed one: as many records are kept
    assert after["corpora"]["chatterbot"]["records"] == before["corpora"]["chatterbot"]["records"] + 1
    kept = [sum(1 for _ in iter_jsonl(tmp_path / d / "records.jsonl")) for d in ("before", "after")]
    assert kept[1] == kept[0]
    removed = [
        json.loads((tmp_path / d / "dedup_report.json").read_text())["removed"] for d in ("before", "after")
    ]
    assert removed[1] == removed[0] + 1


def test_a_field_over_the_configured_length_names_file_line_and_field(corpus, tmp_path):
    """Class: a 10 MB single-line answer accepted without a word (corpus_build.max_field_chars)."""
    root, corpora = corpus
    path = greetings(root)
    path.write_text(
        path.read_text(encoding="utf-8").replace("  - Hi\n", f"  - {'x' * 101}\n", 1), encoding="utf-8"
    )
    with pytest.raises(
        InputError,
        match=r"greetings\.yml:4: field 'human_answer' is 101 characters long, over corpus_build\.max_field_chars=100",
    ):
        build_corpus(corpora, seed=0, max_field_chars=100)
    assert build_corpus(corpora, seed=0, max_field_chars=101)[0]  # at the limit: kept


def test_the_default_field_limit_is_the_schema_s_and_refuses_a_longer_answer(corpus, tmp_path):
    root, corpora = corpus
    limit = schema_default("corpus_build", "max_field_chars")
    path = greetings(root)
    path.write_text(
        path.read_text(encoding="utf-8").replace("  - Hi\n", f"  - {'x' * (limit + 1)}\n", 1),
        encoding="utf-8",
    )
    fails_before_output(
        corpora, tmp_path / "out", rf"greetings\.yml:4: field 'human_answer' is {limit + 1} characters long"
    )


def test_an_over_long_row_is_dropped_and_counted_under_a_drop_rate(corpus, tmp_path):
    root, corpora = corpus
    path = greetings(root)
    path.write_text(
        path.read_text(encoding="utf-8").replace("  - Hi\n", f"  - {'x' * 101}\n", 1), encoding="utf-8"
    )
    _, _, log = build_corpus(corpora, seed=0, max_drop_rate=0.5, max_field_chars=100)
    (row,) = log["corpora"]["chatterbot"]["dropped"]["rows"]
    assert row["reason"] == "malformed" and row["where"].endswith("greetings.yml:4")
