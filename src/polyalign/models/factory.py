"""Tokenizer and model from the `model:` config block: trained from scratch or loaded from the hub.

`source: scratch` builds a character-level BPE tokenizer (every CJK character one token) on the train split and a small LLaMA-style
decoder (`LlamaForCausalLM`) sized by the config; any other `source` is a hub id or local path
loaded with the Auto classes (`trust_remote_code` off unless the config turns it on). Both end
up as a `save_pretrained` directory (safetensors), and every later stage loads that directory
with `load_model`, whatever the source was.
"""

from __future__ import annotations

import os

import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from .pretrained import prepare_tokenizer, set_generation_ids
from .runtime import load_model_for_inference
from .settings import ModelSettings
from .tokenizer import record_texts, train_tokenizer

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def build_tokenizer(
    cfg: ModelSettings,
    train_records: list[dict] | None = None,
    fixed_texts: list[str] | None = None,
    extra_texts: list[str] = (),
):
    """Scratch: train on the train split's texts (both languages), `fixed_texts`, the texts every
    rendered prompt is made of (`polyalign.prompts.prompt_scaffold_texts`), so that no character
    of a prompt is <unk>, and `extra_texts` (the BaseLM's pre-training text). Otherwise load the
    source's."""
    if cfg.is_scratch:
        if not train_records:
            raise ValueError("model.source=scratch needs the train split to train a tokenizer")
        if fixed_texts is None:
            raise ValueError("model.source=scratch needs the prompts' fixed texts (prompt_scaffold_texts())")
        tok = train_tokenizer(
            [*record_texts(train_records), *fixed_texts, *extra_texts],
            cfg.vocab_size,
            cfg.tokenizer_min_frequency,
        )
    else:
        tok = AutoTokenizer.from_pretrained(cfg.source, trust_remote_code=cfg.trust_remote_code)
    return prepare_tokenizer(tok)


def build_model(cfg: ModelSettings, tokenizer):
    """Scratch: a randomly initialised LlamaForCausalLM (seeded: same seed → same weights).
    Otherwise the source's pretrained weights."""
    if not cfg.is_scratch:
        return load_model(cfg.source, cfg)[0]
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_kv_heads or cfg.num_heads,
        max_position_embeddings=cfg.max_length,
        tie_word_embeddings=cfg.tie_word_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config._attn_implementation = cfg.attn_implementation
    torch.manual_seed(cfg.seed)
    model = LlamaForCausalLM(config)
    set_generation_ids(model, tokenizer)
    return model


def load_model(path: str | os.PathLike, cfg: ModelSettings):
    """(model, tokenizer) from a hub id or a `save_pretrained` directory, in eval mode, with the
    `model:` block's device and dtype (`polyalign.models.runtime.load_model_for_inference`)."""
    return load_model_for_inference(path, cfg)


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())
