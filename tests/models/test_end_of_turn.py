"""Base checkpoints without a chat template get the family's shipped one, and every system stops
at its template's end-of-turn token as well as at eos (fixture tokenizers in each family's
published format: tests/fixtures/chat_templates)."""

import pytest
from transformers import GenerationConfig

from polyalign.generation.decoding import eos_ids_of
from polyalign.models.chat import end_of_turn_token, install_chat_template

from ..paper_models import _tokenizer
from .test_chat_templates import EXPECTED, MESSAGES


class _Model:  # eos_ids_of reads only the generation config
    def __init__(self, eos):
        self.generation_config = GenerationConfig(eos_token_id=eos)


@pytest.mark.parametrize(
    "family, turn_end", [("qwen2", "<|im_end|>"), ("llama3", "<|eot_id|>"), ("gemma2", "<end_of_turn>")]
)
def test_generation_stops_at_the_templates_end_of_turn_and_at_eos(family, turn_end):
    tokenizer = _tokenizer(family)
    assert end_of_turn_token(tokenizer) == turn_end
    eos = tokenizer.eos_token_id
    ids = eos_ids_of(_Model(eos), tokenizer)
    assert ids == sorted({eos, tokenizer.convert_tokens_to_ids(turn_end)}) and len(ids) == 2


def test_a_base_llama_without_template_gets_the_shipped_one():
    tokenizer = _tokenizer("llama3")
    tokenizer.chat_template = None  # meta-llama/Llama-3.2-3B (base) ships none
    with pytest.raises(ValueError, match="no chat template.*shipped template .*llama3"):
        install_chat_template(tokenizer, "own")
    install_chat_template(tokenizer, "llama3")
    text = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    assert text == EXPECTED["llama3"]
    assert end_of_turn_token(tokenizer) == "<|eot_id|>"
    again = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    assert again == text and "2024" not in tokenizer.chat_template and "tools" not in tokenizer.chat_template


def test_eos_ending_templates_keep_one_stop_id():
    from polyalign.models.tokenizer import CHAT_TEMPLATE  # the embedded scratch format ends turns with eos

    tokenizer = _tokenizer("qwen2")
    tokenizer.chat_template = CHAT_TEMPLATE
    assert end_of_turn_token(tokenizer) == tokenizer.eos_token
    assert eos_ids_of(_Model(tokenizer.eos_token_id), tokenizer) == [tokenizer.eos_token_id]
