import hashlib
import string

import pytest

from polyalign.models import CHAT_TEMPLATE, SPECIAL_TOKENS, load_tokenizer, train_tokenizer
from polyalign.models.tokenizer import is_cjk, record_texts
from polyalign.models.tokenizer_report import (
    check_max_new_tokens,
    check_serves_chinese,
    length_summary,
    nearest_rank,
    tokenizer_report,
)

from .micro import micro_records, micro_settings, micro_tokenizer, one_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_round_trip_en_and_zh():
    tok = micro_tokenizer()
    micro_chars = set("".join(record_texts(micro_records())))
    for text in ["Pretty good, thanks. You?", "晴天，很暖和。", "Mixed 英语 text\nwith 2 lines & ~{}|"]:
        assert set(text) - {" "} <= micro_chars | set(string.printable)
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert tok.unk_token_id not in ids
        assert tok.decode(ids) == text


def test_every_cjk_char_of_the_training_texts_is_one_token_and_never_merged():
    texts = ["今天是晴天，很暖和。", "我们今天去公园吧！", "Hello there, hello there"] * 3
    tok = train_tokenizer(texts, 300, min_frequency=1)
    cjk = sorted({c for t in texts for c in t if is_cjk(c)})
    assert len(cjk) == 16  # 9 in the first text, 7 new in the second
    for c in cjk:
        assert len(tok(c, add_special_tokens=False)["input_ids"]) == 1, c
    # "今天" occurs 6 times, yet it is two tokens: CJK characters are isolated before BPE
    assert tok.convert_ids_to_tokens(tok("今天", add_special_tokens=False)["input_ids"]) == ["今", "天"]
    assert not any(is_cjk(c) and len(t) > 1 for t in tok.get_vocab() for c in t)
    # English still gets merges: the repeated words become single tokens
    assert tok.convert_ids_to_tokens(tok("Hello there", add_special_tokens=False)["input_ids"]) == [
        "Hello",
        "▁there",
    ]
    report = tokenizer_report(tok, [{"language": "zh", "human_answer": t} for t in texts[:2]])
    assert report["per_language"]["zh"]["tokens_per_char"] == 1.0  # 19 characters, 19 tokens
    assert report["n_cjk_chars_not_one_token"] == 0
    check_serves_chinese(report)


def test_no_byte_tokens_so_no_cut_can_decode_to_replacement_char():
    """The sampler cannot stop inside a character: every vocabulary entry is whole characters, so
    every prefix of every id sequence decodes without U+FFFD."""
    tok = micro_tokenizer()
    vocab = tok.get_vocab()
    assert all("\ufffd" not in tok.decode([i]) for i in vocab.values())
    text = "Mixed 英语 text：你好，晴天 and more"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    for cut in range(len(ids) + 1):
        assert "\ufffd" not in tok.decode(ids[:cut])
    # an unseen character is <unk> (special: dropped by skip_special_tokens), never broken bytes
    ids = tok("龘 ok", add_special_tokens=False)["input_ids"]
    assert ids[0] == tok.unk_token_id and tok.decode(ids, skip_special_tokens=True) == " ok"


def test_training_text_with_replacement_char_is_refused():
    with pytest.raises(ValueError, match="U\\+FFFD"):
        train_tokenizer(["ok \ufffd"], 300, min_frequency=1)


def test_vocab_must_hold_the_alphabet():
    with pytest.raises(ValueError, match="below"):
        train_tokenizer(["今天是晴天"], 50, min_frequency=1)


def test_answer_length_quantiles_and_max_new_tokens_check_by_hand():
    # nearest rank: sorted[ceil(p n) - 1]; lengths 1..20 -> p95 = sorted[18] = 19, p50 = 10
    assert nearest_rank(list(range(20, 0, -1)), 0.95) == 19
    assert nearest_rank(list(range(1, 21)), 0.5) == 10
    assert nearest_rank([7], 0.95) == 7
    lengths = {"en": list(range(1, 21)), "zh": [3, 3, 4]}
    assert check_max_new_tokens(19, lengths, 0.95) == {"en": 19, "zh": 4}
    with pytest.raises(ValueError, match="below the 0.95 quantile.*'en': 19"):
        check_max_new_tokens(18, lengths, 0.95)
    summary = length_summary(lengths)
    assert summary["zh"] == {"n": 3, "mean": 10 / 3, "p50": 3, "p90": 4, "p95": 4, "p99": 4, "max": 4}


def test_no_special_tokens_added_by_plain_encoding():
    tok = micro_tokenizer()
    ids = tok("Hi")["input_ids"]
    assert tok.bos_token_id not in ids and tok.eos_token_id not in ids


def test_special_tokens_and_chat_template():
    tok = micro_tokenizer()
    assert tok.convert_ids_to_tokens(list(range(len(SPECIAL_TOKENS)))) == list(SPECIAL_TOKENS)
    assert (tok.pad_token, tok.bos_token, tok.eos_token, tok.unk_token) == ("<pad>", "<s>", "</s>", "<unk>")
    assert tok.chat_template == CHAT_TEMPLATE and tok.padding_side == "left"
    msgs = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "A"},
        {"role": "user", "content": "你好"},
    ]
    text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    assert (
        text
        == "<s><|system|>\nS</s>\n<|user|>\nQ</s>\n<|assistant|>\nA</s>\n<|user|>\n你好</s>\n<|assistant|>\n"
    )
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
    back = load_tokenizer(tmp_path, micro_settings().trust_remote_code)
    text = tok.apply_chat_template(
        [{"role": "user", "content": "你好 hi"}], tokenize=False, add_generation_prompt=True
    )
    assert (
        back.apply_chat_template(
            [{"role": "user", "content": "你好 hi"}], tokenize=False, add_generation_prompt=True
        )
        == text
    )
    assert back(text)["input_ids"] == tok(text)["input_ids"]
    assert back.padding_side == "left" and back.pad_token_id == tok.pad_token_id
