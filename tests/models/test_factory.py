import hashlib

import pytest
import torch

from polyalign.config import ConfigError
from polyalign.models import build_model, count_parameters, load_model, model_settings, save_model

from .micro import MICRO_MODEL, micro_settings, micro_tokenizer, one_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_scratch_model_from_config():
    tok = micro_tokenizer()
    model = build_model(micro_settings(), tok)
    c = model.config
    assert (c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.vocab_size) == (32, 2, 2, len(tok))
    assert c.max_position_embeddings == MICRO_MODEL["max_length"]
    assert model.generation_config.eos_token_id == tok.eos_token_id
    assert model.generation_config.pad_token_id == tok.pad_token_id
    assert 10_000 < count_parameters(model) < 100_000


def test_unknown_model_key_is_an_error():
    with pytest.raises(ConfigError, match="hiden_size"):
        model_settings({**vars(micro_settings()), "hiden_size": 3})


def test_same_seed_same_bytes(tmp_path):
    tok = micro_tokenizer()
    for name in ("a", "b"):
        save_model(build_model(micro_settings(), tok), tok, tmp_path / name)
    for f in ("model.safetensors", "tokenizer.json", "config.json"):
        a, b = ((tmp_path / n / f).read_bytes() for n in ("a", "b"))
        assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest(), f
    other = build_model(micro_settings(seed=1), tok)
    assert not torch.equal(
        other.model.embed_tokens.weight, build_model(micro_settings(), tok).model.embed_tokens.weight
    )


def test_save_load_round_trip(tmp_path):
    tok = micro_tokenizer()
    model = build_model(micro_settings(), tok)
    save_model(model, tok, tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    back, back_tok = load_model(tmp_path, micro_settings())
    assert not back.training
    for (k, v), (k2, v2) in zip(model.state_dict().items(), back.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    assert back_tok.chat_template == tok.chat_template
