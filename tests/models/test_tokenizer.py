import hashlib

import pytest

from polyalign.models import CHAT_TEMPLATE, SPECIAL_TOKENS, load_tokenizer, train_tokenizer
from polyalign.models.tokenizer import record_texts

from .micro import micro_records, micro_tokenizer, one_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_round_trip_en_and_zh():
    tok = micro_tokenizer()
    for text in ["Pretty good, thanks. You?", "今天是晴天，很暖和。", "Mixed 中英 text\nwith 2 lines & emoji 😀"]:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert tok.unk_token_id not in ids
        assert tok.decode(ids) == text


def test_no_special_tokens_added_by_plain_encoding():
    tok = micro_tokenizer()
    ids = tok("Hi")["input_ids"]
    assert tok.bos_token_id not in ids and tok.eos_token_id not in ids


def test_special_tokens_and_chat_template():
    tok = micro_tokenizer()
    assert tok.convert_ids_to_tokens(list(range(len(SPECIAL_TOKENS)))) == list(SPECIAL_TOKENS)
    assert (tok.pad_token, tok.bos_token, tok.eos_token, tok.unk_token) == ("<pad>", "<s>", "</s>", "<unk>")
    assert tok.chat_template == CHAT_TEMPLATE and tok.padding_side == "left"
    msgs = [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"},
            {"role": "user", "content": "你好"}]
    text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    assert text == "<s><|system|>\nS</s>\n<|user|>\nQ</s>\n<|assistant|>\nA</s>\n<|user|>\n你好</s>\n<|assistant|>\n"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert ids[:2] == [tok.bos_token_id, tok.convert_tokens_to_ids("<|system|>")]
    assert tok.decode(ids) == text


def test_training_is_deterministic(tmp_path):
    texts = list(record_texts(micro_records())) * 2
    digests = []
    for name in ("a", "b"):
        train_tokenizer(texts, 300, min_frequency=1).save_pretrained(tmp_path / name)
        digests.append(hashlib.sha256((tmp_path / name / "tokenizer.json").read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_save_and_reload(tmp_path):
    tok = micro_tokenizer()
    tok.save_pretrained(tmp_path)
    back = load_tokenizer(tmp_path)
    text = tok.apply_chat_template([{"role": "user", "content": "你好 hi"}], tokenize=False, add_generation_prompt=True)
    assert back.apply_chat_template([{"role": "user", "content": "你好 hi"}], tokenize=False, add_generation_prompt=True) == text
    assert back(text)["input_ids"] == tok(text)["input_ids"]
    assert back.padding_side == "left" and back.pad_token_id == tok.pad_token_id
