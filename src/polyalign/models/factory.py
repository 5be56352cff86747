"""Tokenizer and model from the `model:` config block: trained from scratch or loaded from the hub.

`source: scratch` builds a character-level BPE tokenizer (every CJK character one token) on the train split and a small LLaMA-style
decoder (`LlamaForCausalLM`) sized by the config; any other `source` is a hub id or local path
loaded with the Auto classes (`trust_remote_code` off unless the config turns it on). Both end
up as a `save_pretrained` directory (safetensors), and every later stage loads that directory
with `load_model`, whatever the source was.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

from .settings import ModelSettings
from .tokenizer import record_texts, train_tokenizer

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def prepare_tokenizer(tokenizer):
    """Left padding (generation batches) and a pad token (eos when the model has none)."""
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError("tokenizer has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def build_tokenizer(cfg: ModelSettings, train_records: list[dict] | None = None):
    """Scratch: train on the train split's texts (both languages). Otherwise load the source's."""
    if cfg.is_scratch:
        if not train_records:
            raise ValueError("model.source=scratch needs the train split to train a tokenizer")
        from ..prompts import prompt_scaffold_texts

        # The fixed prompt texts too, so that no character of a rendered prompt is <unk>.
        texts = [*record_texts(train_records), *prompt_scaffold_texts()]
        tok = train_tokenizer(texts, cfg.vocab_size, cfg.tokenizer_min_frequency)
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


def pretrained_model(path: str | os.PathLike, **kwargs):
    """`AutoModelForCausalLM.from_pretrained` whose failure names the model directory (a damaged
    weights file otherwise fails with a bare "invalid header length")."""
    try:
        return AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    except Exception as e:
        hint = (
            f"; if its files are damaged, delete {Path(path) / 'train_summary.json'} and rerun to retrain it"
            if Path(path, "train_summary.json").is_file()
            else ""
        )
        raise RuntimeError(f"{path}: cannot load the model ({type(e).__name__}: {e}){hint}") from e


def load_model(path: str | os.PathLike, cfg: ModelSettings):
    """(model, tokenizer) from a hub id or a `save_pretrained` directory, in eval mode, with the
    `model:` block's device and dtype (`polyalign.models.runtime.load_model_for_inference`)."""
    from .runtime import load_model_for_inference

    return load_model_for_inference(path, cfg)


def load_tokenizer(path: str | os.PathLike, cfg: ModelSettings):
    from .runtime import load_tokenizer as _load

    return _load(path, cfg.trust_remote_code)


def save_model(model, tokenizer, out_dir: str | os.PathLike) -> None:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def set_generation_ids(model, tokenizer) -> None:
    """Fill in missing pad/eos/bos ids; a hub model's own list of eos ids is kept."""
    gc = model.generation_config
    if gc.pad_token_id is None:
        gc.pad_token_id = tokenizer.pad_token_id
    if gc.eos_token_id is None:
        gc.eos_token_id = tokenizer.eos_token_id
    if gc.bos_token_id is None:
        gc.bos_token_id = tokenizer.bos_token_id
