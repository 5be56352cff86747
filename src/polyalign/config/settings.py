"""Typed settings built from the resolved config: one frozen dataclass per config block.

The dataclasses carry no defaults: `resolve_config` (the Snakefile, before any job) has already
filled every default from the schema, so a block that lacks a field is a caller that skipped
resolution, and `settings_from_block` fails naming the dotted key instead of guessing a value.
A nested dataclass field is built from the nested mapping the same way.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar, get_type_hints

from .schema import ConfigError

T = TypeVar("T")


def settings_from_block(cls: type[T], block: dict | None, where: str) -> T:
    """`cls(**block)` with every field required: a missing key or an unknown one raises
    ConfigError naming `where.key`."""
    if block is not None and not isinstance(block, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(block).__name__}")
    block = dict(block or {})
    names = [f.name for f in dataclasses.fields(cls)]
    missing = [n for n in names if n not in block]
    unknown = sorted(set(block) - set(names))
    problems = [
        f"{where}.{n}: missing (resolve the config with polyalign.config.resolve_config)" for n in missing
    ]
    problems += [f"{where}.{n}: unknown key (known: {', '.join(names)})" for n in unknown]
    if problems:
        raise ConfigError(f"{cls.__name__}:\n  " + "\n  ".join(problems))
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for n in names:
        kind = hints[n]
        if dataclasses.is_dataclass(kind):
            values[n] = settings_from_block(kind, block[n], f"{where}.{n}")
        else:
            values[n] = block[n]
    return cls(**values)


def settings_dict(settings) -> dict:
    """The settings as the plain mapping they came from (for summaries and logs)."""
    return dataclasses.asdict(settings)
