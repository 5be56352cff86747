"""Tokenizers and causal LMs: trained from scratch (embedded profile) or loaded from the hub."""

from .factory import (
    build_model,
    build_tokenizer,
    count_parameters,
    is_scratch,
    load_model,
    load_tokenizer,
    model_config,
    prepare_tokenizer,
    save_model,
)
from .tokenizer import CHAT_TEMPLATE, SPECIAL_TOKENS, record_texts, train_tokenizer

__all__ = [
    "CHAT_TEMPLATE",
    "SPECIAL_TOKENS",
    "build_model",
    "build_tokenizer",
    "count_parameters",
    "is_scratch",
    "load_model",
    "load_tokenizer",
    "model_config",
    "prepare_tokenizer",
    "record_texts",
    "save_model",
    "train_tokenizer",
]
