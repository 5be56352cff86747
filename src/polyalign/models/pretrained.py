"""Hugging Face model directories: a loaded causal LM whose failure names its directory, a tokenizer
prepared for batched generation, generation ids filled in, and `save_pretrained` of both.
`runtime` (loading) and `factory` (building) share these."""

from __future__ import annotations

import os
from pathlib import Path


def prepare_tokenizer(tokenizer):
    """Left padding (generation batches) and a pad token (eos when the model has none)."""
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError("tokenizer has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def pretrained_model(path: str | os.PathLike, **kwargs):
    """`AutoModelForCausalLM.from_pretrained` whose failure names the model directory (a damaged
    weights file otherwise fails with a bare "invalid header length")."""
    from transformers import AutoModelForCausalLM

    try:
        return AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    except Exception as e:
        hint = (
            f"; if its files are damaged, delete {Path(path) / 'train_summary.json'} and rerun to retrain it"
            if Path(path, "train_summary.json").is_file()
            else ""
        )
        raise RuntimeError(f"{path}: cannot load the model ({type(e).__name__}: {e}){hint}") from e


def save_model(model, tokenizer, out_dir: str | os.PathLike) -> None:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)


def set_generation_ids(model, tokenizer) -> None:
    """Fill in missing pad/eos/bos ids; a hub model's own list of eos ids is kept."""
    gc = model.generation_config
    if gc.pad_token_id is None:
        gc.pad_token_id = tokenizer.pad_token_id
    if gc.eos_token_id is None:
        gc.eos_token_id = tokenizer.eos_token_id
    if gc.bos_token_id is None:
        gc.bos_token_id = tokenizer.bos_token_id
