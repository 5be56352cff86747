"""The pre-training text as model input: rendering, packing, and the BaseLM trained on it."""

import pytest

from polyalign.models import build_tokenizer
from polyalign.models.tokenizer_report import check_serves_chinese, tokenizer_report
from polyalign.prompts import prompt_scaffold_texts
from polyalign.train.pretrain_corpus import document_texts, pack_blocks, packed_examples, render_document
from polyalign.train.sft import pretrain_base
from tests.models.micro import micro_records, micro_settings, micro_tokenizer, one_thread  # noqa: F401

from .test_sft import CONFIG

pytestmark = pytest.mark.usefixtures("one_thread")

DOCS = [
    {"id": "chitchat:a", "source": "chitchat", "language": "en", "segments": ["hi there", "hello", "bye"]},
    {"id": "reviews:pos.txt:1", "source": "reviews", "language": "zh", "segments": ["很好。", "推荐！"]},
]


def test_blocks_are_full_and_in_order():
    assert pack_blocks([[1, 2, 3], [4, 5], [6, 7, 8, 9]], 4) == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert pack_blocks([[1, 2]], 4) == []  # a remainder shorter than a block is dropped
    with pytest.raises(ValueError, match="at least 2"):
        pack_blocks([[1]], 1)


def test_conversations_are_chat_dialogues_and_prose_is_bos_text_eos():
    tok = micro_tokenizer()
    chat = render_document(DOCS[0], tok)
    assert chat == tok.apply_chat_template(
        [
            {"role": "user", "content": "hi there"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "bye"},
        ],
        tokenize=False,
    )
    assert render_document(DOCS[1], tok) == f"{tok.bos_token}很好。推荐！{tok.eos_token}"
    assert document_texts(DOCS) == ["hi there", "hello", "bye", "很好。", "推荐！"]


def test_packed_examples_are_the_concatenated_documents():
    tok = micro_tokenizer()
    streams = [tok(render_document(d, tok), add_special_tokens=False)["input_ids"] for d in DOCS * 4]
    flat = [t for s in streams for t in s]
    examples = packed_examples(DOCS * 4, tok, 16)
    assert len(examples) == len(flat) // 16
    assert [t for e in examples for t in e.input_ids] == flat[: 16 * len(examples)]
    assert all(e.labels == e.input_ids and len(e.input_ids) == 16 for e in examples)


def test_every_character_of_the_pretraining_text_is_one_token():
    rare = "龘靐齉"  # in no train record
    docs = [{**DOCS[1], "segments": [f"这是{rare}。"]}]
    tok = build_tokenizer(
        micro_settings(vocab_size=2048), micro_records(), prompt_scaffold_texts(), document_texts(docs)
    )
    for ch in rare:
        assert len(tok(ch, add_special_tokens=False)["input_ids"]) == 1
        assert tok.convert_ids_to_tokens(tok(ch, add_special_tokens=False)["input_ids"])[0] == ch
    check_serves_chinese(tokenizer_report(tok, micro_records(), texts=document_texts(docs)))


def test_the_base_trains_on_the_packed_text(tmp_path):
    tok = micro_tokenizer()
    tok.save_pretrained(tmp_path / "tok")
    docs = [{**DOCS[0], "id": f"chitchat:{i}"} for i in range(40)]
    summary = pretrain_base(
        micro_records(), tmp_path / "tok", CONFIG, tmp_path / "base", progress=False, pretrain_documents=docs
    )
    block = CONFIG["model"]["max_length"]
    stream = len(tok(render_document(docs[0], tok), add_special_tokens=False)["input_ids"]) * 40
    assert summary["pretrain_text"] == {
        "documents": 40,
        "blocks": stream // block,
        "tokens": stream // block * block,
    }
    assert summary["train"]["examples"] == len(micro_records()) + stream // block
