"""Preference optimisation (docs/method.md §6–7): pairs, cached reference log-probs, DPO/HDPO training.

`config` and `pairs` need no torch and are imported eagerly; the torch modules load on first use.
"""

from __future__ import annotations

import importlib

from .config import SYSTEMS, PreferenceSettings, preference_settings, preference_train_config
from .pairs import build_pairs, critic_scorer

_LAZY = {
    "tokenize_pairs": "examples",
    "collate_pairs": "examples",
    "PairExample": "examples",
    "compute_reference_logps": "reference_cache",
    "build_reference_cache": "reference_cache",
    "read_reference_cache": "reference_cache",
    "attach_reference": "reference_cache",
    "preference_loss": "train",
    "train_preference": "train",
}

__all__ = [
    "SYSTEMS",
    "PreferenceSettings",
    "build_pairs",
    "critic_scorer",
    "preference_settings",
    "preference_train_config",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
