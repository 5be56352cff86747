"""Each family's own chat template (fixture tokenizer_config.json files) renders the pipeline's
prompts; Gemma-2's template, which rejects a system role, gets the profile folded into the
first user turn."""

import pytest

from polyalign.models.chat import fit_messages, fold_system, install_chat_template, supports_system_role
from polyalign.prompts import render_messages

from ..paper_models import FAMILIES, _tokenizer

MESSAGES = [
    {"role": "system", "content": "Profile: en | dialogue | short"},
    {"role": "user", "content": "Hi there"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "How are you?"},
]


@pytest.fixture(scope="module", params=FAMILIES)
def family(request):
    return request.param, _tokenizer(request.param)


EXPECTED = {
    "qwen2": (
        "<|im_start|>system\nProfile: en | dialogue | short<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nHow are you?<|im_end|>\n"
        "<|im_start|>assistant\n"
    ),
    "llama3": (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nProfile: en | dialogue | short<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    ),
    "gemma2": (
        "<bos><start_of_turn>user\nProfile: en | dialogue | short\n\nHi there<end_of_turn>\n"
        "<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\nHow are you?<end_of_turn>\n"
        "<start_of_turn>model\n"
    ),
}


def test_each_family_renders_its_own_format(family):
    name, tok = family
    assert render_messages(MESSAGES, tok) == EXPECTED[name]


def test_system_role_detection(family):
    name, tok = family
    assert supports_system_role(tok) == (name != "gemma2")


def test_gemma_template_really_rejects_a_system_role():
    tok = _tokenizer("gemma2")
    with pytest.raises(Exception, match="System role not supported"):
        tok.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)


def test_fold_system_merges_turns_so_roles_alternate():
    msgs = [
        {"role": "system", "content": "S"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "u1"},
        {"role": "user", "content": "u2"},
    ]
    assert fold_system(msgs) == [
        {"role": "user", "content": "S"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "u1\n\nu2"},
    ]
    assert msgs[2]["content"] == "u1"  # input untouched


def test_fit_messages_keeps_a_template_with_system_role_unchanged():
    tok = _tokenizer("qwen2")
    assert fit_messages(MESSAGES, tok) is MESSAGES


def test_install_chat_template_from_file_and_own(tmp_path):
    tok = _tokenizer("llama3")
    assert install_chat_template(tok, "own") is tok
    path = tmp_path / "t.jinja"
    path.write_text("{% for m in messages %}[{{ m['role'] }}]{{ m['content'] }}{% endfor %}")
    install_chat_template(tok, str(path))
    assert tok.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False) == "[user]x"
    tok.chat_template = None
    with pytest.raises(ValueError, match="no chat template"):
        install_chat_template(tok, "own")
