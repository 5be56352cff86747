"""Tokenizers and causal LMs: trained from scratch (embedded profile) or loaded from the hub."""

from .factory import build_model, build_tokenizer, count_parameters, load_model
from .pretrained import prepare_tokenizer, save_model
from .runtime import load_tokenizer
from .settings import ModelSettings, model_settings
from .tokenizer import CHAT_TEMPLATE, SPECIAL_TOKENS, record_texts, train_tokenizer

__all__ = [
    "CHAT_TEMPLATE",
    "SPECIAL_TOKENS",
    "build_model",
    "build_tokenizer",
    "count_parameters",
    "load_model",
    "load_tokenizer",
    "ModelSettings",
    "model_settings",
    "prepare_tokenizer",
    "record_texts",
    "save_model",
    "train_tokenizer",
]
