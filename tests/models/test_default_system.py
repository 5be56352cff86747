"""Templates that inject a default system prompt (Qwen2: "You are a helpful assistant.", Qwen2.5:
"You are Qwen, created by Alibaba Cloud. ...") get an explicit empty system message from the
`plain` style (BaseLM, SFT, DPO), so no persona enters prompts the pipeline did not write;
templates without such a default render exactly as before."""

from pathlib import Path

import pytest

from polyalign.models.chat import fit_messages, injects_default_system
from polyalign.models.tokenizer import CHAT_TEMPLATE
from polyalign.prompts import build_messages, render_messages

from ..paper_models import _tokenizer

QWEN25 = (
    Path(__file__).resolve().parents[1] / "fixtures" / "chat_templates" / "qwen2.5" / "chat_template.jinja"
)
RECORD = {
    "question": "Where is the station?",
    "context": "",
    "language": "en",
    "track": "single",
    "family": "qa",
    "situation": "qa_search",
}


def _plain(tok) -> str:
    return render_messages(build_messages(RECORD, style="plain"), tok)


def test_tiny_qwen2_plain_prompt_has_an_empty_system_turn_not_the_default():
    tok = _tokenizer("qwen2")
    assert injects_default_system(tok)
    assert _plain(tok) == (
        "<|im_start|>system\n<|im_end|>\n<|im_start|>user\nWhere is the station?<|im_end|>\n<|im_start|>assistant\n"
    )
    # what the template alone would have written
    raw = tok.apply_chat_template(
        build_messages(RECORD, style="plain"), tokenize=False, add_generation_prompt=True
    )
    assert "You are a helpful assistant." in raw


def test_qwen25_published_template_loses_its_persona():
    tok = _tokenizer("qwen2")
    tok.chat_template = QWEN25.read_text(encoding="utf-8")
    assert injects_default_system(tok)
    assert "You are Qwen" not in _plain(tok)
    assert _plain(tok).startswith("<|im_start|>system\n<|im_end|>\n<|im_start|>user\n")


@pytest.mark.parametrize("style", ["cot", "profile"])
def test_styles_with_a_system_text_keep_it_as_the_only_system_turn(style):
    tok = _tokenizer("qwen2")
    messages = build_messages(RECORD, style=style, length_bin="short")
    text = render_messages(messages, tok)
    assert fit_messages(messages, tok) is messages
    assert text.count("<|im_start|>system\n") == 1 and "helpful assistant" not in text
    assert text.startswith("<|im_start|>system\n" + messages[0]["content"] + "<|im_end|>\n")


@pytest.mark.parametrize("family", ["llama3", "gemma2"])
def test_templates_without_a_default_render_the_plain_prompt_unchanged(family):
    tok = _tokenizer(family)
    messages = build_messages(RECORD, style="plain")
    assert not injects_default_system(tok)
    assert fit_messages(messages, tok) == messages
    assert _plain(tok) == tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def test_the_embedded_scratch_template_is_unchanged():
    tok = _tokenizer("llama3")
    tok.chat_template = CHAT_TEMPLATE
    assert not injects_default_system(tok)
    assert "<|system|>" not in _plain(tok)
