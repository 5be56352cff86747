"""The one configuration layer (docs/configuration.md).

`config.schema.yaml` (next to this file, shipped as package data) is the only place a default is
written; the profiles under config/ name only what they change. `resolve_config`
validates a merged config against it (every block closed, so a misspelt key fails naming its
path), fills every default in, and runs the cross-field checks of `checks.py`; the Snakefile calls
it before any rule is built. Library code reads defaults from the same schema (`block_defaults`).
"""

from __future__ import annotations

import importlib

from .schema import (
    SCHEMA_RESOURCE,
    ConfigError,
    block_defaults,
    defaulted_keys,
    fill_defaults,
    load_schema,
    restated_defaults,
    schema_default,
    validate_schema,
)
from .values import load_yaml_file

# Loaded on first use: the checks import the corpus loaders, which no job needs.
_LAZY = {"resolve_config": "resolve", "check_config": "checks"}

__all__ = [
    "ConfigError",
    "SCHEMA_RESOURCE",
    "block_defaults",
    "check_config",
    "defaulted_keys",
    "fill_defaults",
    "load_schema",
    "load_yaml_file",
    "resolve_config",
    "restated_defaults",
    "schema_default",
    "validate_schema",
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
