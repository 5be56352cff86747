"""Checks on the config's values as a whole, before any default is filled in or bound compared:
finite numbers, bounded size, and YAML files read with their file and line in every error.

NaN fails every comparison, so `minimum`/`maximum` in the schema never see it; infinity passes a
lower bound. A key that may hold a non-finite number says so in the schema (`x-nonfinite: true`).
A YAML alias bomb is a few lines that expand to millions of values when walked; the config is
walked with a budget so that it is refused in milliseconds, naming the block that holds it.
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml

from .schema import ConfigError, key_path, resolve_ref

# Values (scalars and containers) one block may expand to; the embedded config holds about 600.
MAX_VALUES_PER_BLOCK = 20_000


def _schema_child(node: dict | None, key, schema: dict) -> dict | None:
    if node is None:
        return None
    node = resolve_ref(node, schema)
    if isinstance(key, int):
        items = node.get("items")
        return items if isinstance(items, dict) else None
    props = node.get("properties") or {}
    if key in props:
        return props[key]
    extra = node.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def nonfinite_numbers(config: dict, schema: dict) -> list[str]:
    """Messages for every NaN or infinite number whose schema node does not allow it."""
    out: list[str] = []

    def walk(value, path, node):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, [*path, k], _schema_child(node, k, schema))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, [*path, i], _schema_child(node, i, schema))
        elif isinstance(value, float) and not math.isfinite(value):
            allowed = node is not None and resolve_ref(node, schema).get("x-nonfinite", False)
            if not allowed:
                out.append(f"{key_path(path)}: must be a finite number, got {value}")

    walk(config, [], schema)
    return out


def _count(value, budget: int) -> int:
    """Values under `value` (itself included), counting at most `budget` (aliases expanded)."""
    seen = 1
    stack = [value]
    while stack and seen < budget:
        node = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            seen += 1
            if seen >= budget:
                break
            if isinstance(child, dict | list):
                stack.append(child)
    return seen


def oversized_blocks(config: dict, limit: int = MAX_VALUES_PER_BLOCK) -> list[str]:
    """The innermost mapping key holding more than `limit` values (free-form blocks such as
    `chat_template_kwargs` included), found without expanding more than `limit` values per step."""

    def culprit(value, path):
        if isinstance(value, dict):
            for k, v in value.items():
                if _count(v, limit + 1) > limit:
                    return culprit(v, [*path, k])
        return path

    if _count(config, limit + 1) <= limit:
        return []
    path = culprit(config, [])
    return [
        f"{key_path(path)}: holds more than {limit} values (a YAML alias bomb or a pasted data set?); "
        "the config takes settings, not data"
    ]


def load_yaml_file(path: str | Path) -> dict:
    """A YAML config file as a mapping; a syntax error names the file, line and column."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: malformed YAML: {err.problem or err.context}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: byte {err.start}: not UTF-8") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file holds a mapping of keys, got {type(data).__name__}")
    problems = oversized_blocks(data)
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return data
