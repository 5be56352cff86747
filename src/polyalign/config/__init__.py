"""The one configuration layer (docs/configuration.md).

`workflow/schemas/config.schema.yaml` is the only place a default is written. `resolve_config`
validates a merged config against it (every block closed, so a misspelt key fails naming its
path), fills every default in, and runs the cross-field checks of `checks.py`; the Snakefile calls
it before any rule is built. Library code reads defaults from the same schema (`block_defaults`).
"""

from __future__ import annotations

import importlib

from .schema import SCHEMA_PATH, ConfigError, block_defaults, fill_defaults, load_schema, validate_schema

# Loaded on first use: the checks import the corpus loaders, which no job needs.
_LAZY = {"resolve_config": "resolve", "check_config": "checks"}

__all__ = [
    "ConfigError",
    "SCHEMA_PATH",
    "block_defaults",
    "check_config",
    "fill_defaults",
    "load_schema",
    "resolve_config",
    "validate_schema",
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
