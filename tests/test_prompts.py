from collections import Counter

import pytest

from polyalign.prompts import (
    LengthSampler,
    encode_prompt,
    extract_final_answer,
    profile_length_bin,
    profile_text,
    render_prompt,
)
from tests.models.micro import micro_tokenizer, one_thread, record  # noqa: F401 (fixture)

HISTORY = [{"role": "user", "text": "Hello!"}, {"role": "assistant", "text": "Hi there."}]
TAIL = "<|user|>\nHello!</s>\n<|assistant|>\nHi there.</s>\n<|user|>\nWhat do you do for fun?</s>\n<|assistant|>\n"

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tok():
    return micro_tokenizer()


@pytest.fixture
def rec():
    return record(1, "en", HISTORY, "short")


def test_plain(tok, rec):
    assert render_prompt(rec, tok, None, "plain") == "<s>" + TAIL


def test_profile(tok, rec):
    system = (
        "Respond as a human would in this setting. "
        "language=en; track=multi; family=dialogue; situation=open_chat; length=short."
    )
    assert render_prompt(rec, tok, None, "profile", "short") == f"<s><|system|>\n{system}</s>\n" + TAIL
    assert profile_text(rec, None) == system.replace("; length=short", "")


def test_cot(tok, rec):
    system = (
        "Think step by step about what a good reply is. "
        "Then write the reply itself on a last line that starts with 'Answer:'."
    )
    assert render_prompt(rec, tok, None, "cot") == f"<s><|system|>\n{system}</s>\n" + TAIL


def test_extra_system_text_comes_first(tok, rec):
    text = render_prompt(rec, tok, "Be brief.", "profile", "long")
    assert text.startswith("<s><|system|>\nBe brief.\nRespond as a human would")
    assert "length=long." in text


def test_context_goes_before_the_question(tok):
    r = record(0, "en", context="Some passage.")
    assert (
        render_prompt(r, tok) == "<s><|user|>\nSome passage.\n\nHi, how are you today?</s>\n<|assistant|>\n"
    )


def test_plain_format_without_chat_template(rec):
    tok = micro_tokenizer()
    tok.chat_template = None
    text = render_prompt(rec, tok, "Be brief.", "plain")
    assert text == (
        "### System:\nBe brief.\n\n### User:\nHello!\n\n### Assistant:\nHi there.\n\n"
        "### User:\nWhat do you do for fun?\n\n### Assistant:\n"
    )


def test_truncation_drops_oldest_history_first(tok):
    hist = [
        {"role": "user" if i % 2 == 0 else "assistant", "text": f"turn number {i} with some words"}
        for i in range(6)
    ]
    r = record(1, "en", hist)
    full = render_prompt(r, tok)
    assert "turn number 0" in full
    two = render_prompt(r, tok, max_history_turns=2)
    assert "turn number 3" not in two and "turn number 4" in two and "turn number 5" in two
    limit = len(encode_prompt(two, tok)) - 1
    cut = render_prompt(r, tok, max_prompt_tokens=limit)
    assert len(encode_prompt(cut, tok)) <= limit
    assert "turn number 5" in cut and "turn number 0" not in cut
    assert cut.endswith("What do you do for fun?</s>\n<|assistant|>\n")


def test_truncation_cuts_context_then_question_head(tok):
    r = record(0, "en", context="word " * 60, question="one two three four five six seven eight nine ten?")
    text = render_prompt(r, tok, max_prompt_tokens=40)
    assert len(encode_prompt(text, tok)) <= 40
    assert text.endswith("ten?</s>\n<|assistant|>\n")
    text = render_prompt(r, tok, max_prompt_tokens=14)
    assert len(encode_prompt(text, tok)) <= 14 and "word" not in text and "ten?" in text
    with pytest.raises(ValueError, match="too small"):
        render_prompt(r, tok, max_prompt_tokens=5)


def test_truncation_of_chinese_ends(tok):
    # byte-level tokens split CJK characters: a token-level cut would re-encode longer and loop
    r = record(0, "zh", question="今天天气怎么样？你喜欢什么运动？" * 20, context="我喜欢打篮球和游泳。" * 20)
    text = render_prompt(r, tok, max_prompt_tokens=30)
    assert len(encode_prompt(text, tok)) <= 30 and "\ufffd" not in text
    assert text.endswith("运动？</s>\n<|assistant|>\n")


def test_extract_final_answer():
    assert extract_final_answer("Let me think.\nThey asked X.\nAnswer: Sure, why not?") == (
        "Sure, why not?",
        True,
    )
    assert extract_final_answer("Answer: a\nAnswer: b ") == ("b", True)
    assert extract_final_answer("想一想。\n答案：好的") == ("好的", True)
    # no answer line: an empty answer, never the reasoning text
    assert extract_final_answer("  no marker here ") == ("", False)
    assert extract_final_answer("I think they want a greeting. Ans") == ("", False)
    assert extract_final_answer("Answer:") == ("", True)  # found, but empty
    # the last marker wins, whichever script; the answer runs to the end of the text
    assert extract_final_answer("Answer: no\n答案：好的\nthanks") == ("好的\nthanks", True)


def _train_for_sampler():
    rows = []
    for i in range(400):  # en|single|dialogue: 3:1 short:medium
        rows.append({**record(i, "en"), "id": f"a{i}", "length_bin": "short" if i % 4 else "medium"})
    for i in range(100):  # zh|single|qa: all long
        rows.append({**record(i, "zh", family="qa"), "id": f"b{i}", "length_bin": "long"})
    return rows


def test_length_sampler_distribution_and_seeding():
    sampler = LengthSampler.fit(_train_for_sampler(), seed=7)
    test = [{**record(0, "en"), "id": f"t{i}"} for i in range(2000)]
    draws = [sampler.sample(r) for r in test]
    share = Counter(draws)["medium"] / len(draws)
    assert abs(share - 0.25) < 0.03
    # order-independent: a function of (seed, id) only
    assert [sampler.sample(r) for r in reversed(test)] == draws[::-1]
    assert LengthSampler.from_dict(sampler.to_dict()).sample(test[5]) == draws[5]
    other = LengthSampler(sampler.counts, seed=8)
    assert [other.sample(r) for r in test] != draws


def test_length_sampler_fallback_order():
    sampler = LengthSampler.fit(_train_for_sampler())
    seen = record(0, "zh", family="qa")
    assert sampler.distribution(seen)[1] == {"long": 100}
    # zh multi-track qa: unseen (language, track, family, situation) and (language, track, family),
    # falls back to (language, family) = zh qa
    unseen = record(0, "zh", HISTORY, family="qa")
    key, counts = sampler.distribution(unseen)
    assert key == (("language", "zh"), ("family", "qa")) and counts == {"long": 100}
    # zh dialogue: falls back to (language,) = zh
    key, _ = sampler.distribution(record(0, "zh", family="dialogue"))
    assert key == (("language", "zh"),)
    # an unseen language: the global distribution
    key, counts = sampler.distribution({**record(0, "en"), "language": "fr"})
    assert key == () and counts == {"short": 300, "medium": 100, "long": 100}


def test_profile_length_modes():
    sampler = LengthSampler.fit(_train_for_sampler())
    r = {**record(0, "zh", family="qa"), "length_bin": "short"}
    assert profile_length_bin(r, "sampled", sampler) == "long"
    assert profile_length_bin(r, "gold") == "short"
    assert profile_length_bin(r, "none") is None
    with pytest.raises(ValueError):
        profile_length_bin(r, "sampled")
