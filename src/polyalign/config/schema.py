"""Loading the config schema, filling its defaults and validating against it.

The schema is JSON Schema (draft 2020-12) written in YAML. Defaults are filled top-down: a block
that is absent gets its `default` (an empty mapping for every block), then each of its properties
that is absent gets its own `default`. `$ref` is resolved inside the schema file only. Blocks whose
keys override another block (`pretrain`, `sft`, `dpo`, ...) give no default for the keys they
inherit, so that layering (train_common, then the stage) stays the library's job.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """An invalid configuration; the message names every offending key."""


@cache
def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    """The parsed schema (a fresh copy)."""
    return copy.deepcopy(_load(str(path)))


def resolve_ref(node: dict, schema: dict) -> dict:
    """`node` with a local `$ref` ("#/$defs/x") replaced by its target, sibling keys on top."""
    ref = node.get("$ref")
    if not ref:
        return node
    if not ref.startswith("#/"):
        raise ValueError(f"schema: only local $ref is supported, got {ref!r}")
    target = schema
    for part in ref[2:].split("/"):
        target = target[part]
    merged = {**resolve_ref(target, schema), **{k: v for k, v in node.items() if k != "$ref"}}
    return merged


def _fill(instance, node: dict, schema: dict) -> None:
    node = resolve_ref(node, schema)
    if not isinstance(instance, dict):
        return
    for name, sub in (node.get("properties") or {}).items():
        sub = resolve_ref(sub, schema)
        if name not in instance and "default" in sub:
            instance[name] = copy.deepcopy(sub["default"])
        if name in instance:
            _fill(instance[name], sub, schema)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        for name, value in instance.items():
            if name not in (node.get("properties") or {}):
                _fill(value, extra, schema)


def fill_defaults(config: dict, schema: dict | None = None) -> dict:
    """A copy of `config` with every schema default filled in where the key is absent."""
    schema = schema or _load(str(SCHEMA_PATH))
    out = copy.deepcopy(dict(config or {}))
    _fill(out, schema, schema)
    return out


def key_path(parts) -> str:
    return ".".join(str(p) for p in parts) or "<config>"


def _describe(error) -> str:
    where = key_path(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties") or {})
        unknown = sorted(set(error.instance) - set(allowed))
        keys = ", ".join(key_path([*error.absolute_path, u]) for u in unknown)
        return f"{keys}: unknown key (allowed under {where}: {', '.join(allowed) or 'none'})"
    if error.validator == "pattern" and error.schema.get("description"):
        return f"{where}: {error.instance!r} is not of the form {error.schema['description']}"
    if error.validator == "required":
        return f"{where}: {error.message}"
    return f"{where}: {error.message} (schema: {error.validator} {error.validator_value!r})"


def validate_schema(config: dict, schema: dict | None = None) -> None:
    """Raise ConfigError listing every schema violation, each prefixed by its dotted key."""
    schema = schema or _load(str(SCHEMA_PATH))
    errors = sorted(
        Draft202012Validator(schema).iter_errors(config), key=lambda e: list(map(str, e.absolute_path))
    )
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(_describe(e) for e in errors))


def block_defaults(*path: str) -> dict:
    """The defaults of one block of the schema (e.g. block_defaults("evaluation", "bootstrap")),
    nested blocks included: what the block holds when the config leaves it empty. With no path,
    the top-level defaults (scalars such as profile_length included)."""
    schema = _load(str(SCHEMA_PATH))
    node = schema
    for part in path:
        node = resolve_ref(node, schema)["properties"][part]
    out: dict = {}
    _fill(out, node, schema)
    return out
