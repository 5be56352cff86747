"""Tokenizers and causal LMs: trained from scratch (embedded profile) or loaded from the hub.

Every name is imported on first use: the config check reads `presets` at DAG time, and a
package import that pulled in transformers and torch cost every Snakemake invocation seconds.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "build_model": "factory",
    "build_tokenizer": "factory",
    "count_parameters": "factory",
    "load_model": "factory",
    "prepare_tokenizer": "pretrained",
    "save_model": "pretrained",
    "load_tokenizer": "runtime",
    "ModelSettings": "settings",
    "model_settings": "settings",
    "CHAT_TEMPLATE": "tokenizer",
    "SPECIAL_TOKENS": "tokenizer",
    "record_texts": "tokenizer",
    "train_tokenizer": "tokenizer",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
