"""Loading the config schema, filling its defaults and validating against it.

The schema is JSON Schema (draft 2020-12) written in YAML, shipped inside the package
(`polyalign/config/config.schema.yaml`, package data) so that an installed copy finds it too.
Defaults are filled top-down: a block that is absent gets its `default` (an empty mapping for
every block), then each of its properties that is absent gets its own `default`. `$ref` is
resolved inside the schema file only. Blocks whose keys override another block (`pretrain`,
`sft`, `dpo`, ...) give no default for the keys they inherit, so that layering (train_common,
then the stage) stays the library's job.

A filled block lists the schema's keys in the schema's order (then the keys of open maps, such
as corpora, in the order given): the resolved config does not depend on the order of a
profile's lines, nor on whether a profile restates a default.
"""

from __future__ import annotations

import copy
from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

SCHEMA_RESOURCE = resources.files(__package__) / "config.schema.yaml"


class ConfigError(ValueError):
    """An invalid configuration; the message names every offending key."""


@cache
def _load(path: str | None = None) -> dict:
    text = Path(path).read_text(encoding="utf-8") if path else SCHEMA_RESOURCE.read_text(encoding="utf-8")
    return yaml.safe_load(text)


def load_schema(path: str | Path | None = None) -> dict:
    """The parsed schema (a fresh copy): the package's own, or the file at `path`."""
    return copy.deepcopy(_load(str(path) if path else None))


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


def _filled(instance, node: dict, schema: dict):
    """`instance` (not modified) with the defaults of `node` filled in, keys in schema order."""
    node = resolve_ref(node, schema)
    if not isinstance(instance, dict):
        return copy.deepcopy(instance)
    properties = node.get("properties") or {}
    extra = node.get("additionalProperties")
    out = {}
    for name, sub in properties.items():
        sub = resolve_ref(sub, schema)
        if name in instance:
            out[name] = _filled(instance[name], sub, schema)
        elif "default" in sub:
            out[name] = _filled(sub["default"], sub, schema)
    for name, value in instance.items():
        if name not in properties:  # open maps; unknown keys are left for validation to name
            out[name] = _filled(value, extra, schema) if isinstance(extra, dict) else copy.deepcopy(value)
    return out


def fill_defaults(config: dict, schema: dict | None = None) -> dict:
    """A copy of `config` with every schema default filled in where the key is absent."""
    schema = schema or _load()
    return _filled(dict(config or {}), schema, schema)


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
    schema = schema or _load()
    errors = sorted(
        Draft202012Validator(schema).iter_errors(config), key=lambda e: list(map(str, e.absolute_path))
    )
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(_describe(e) for e in errors))


def block_defaults(*path: str, schema: dict | None = None) -> dict:
    """The defaults of one block of the schema (e.g. block_defaults("evaluation", "bootstrap")),
    nested blocks included: what the block holds when the config leaves it empty. With no path,
    the top-level defaults (scalars such as profile_length included). `schema`: another parsed
    schema than the package's (the rerun digest of a scratch copy reads that copy's)."""
    schema = schema or _load()
    node = schema
    for part in path:
        node = resolve_ref(node, schema)["properties"][part]
    return _filled({}, node, schema)


def defaulted_keys(block: str, schema: dict | None = None) -> tuple[str, ...]:
    """The keys of a top-level block that the schema gives a default: what a resolved config
    holds in that block. Only names, so a changed default value is not read through here."""
    return tuple(block_defaults(block, schema=schema))


def _same_value(a, b) -> bool:
    """YAML values equal as data: 1 == 1.0, but a boolean is never a number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    return a == b


def restated_defaults(config: dict, schema: dict | None = None) -> list[str]:
    """Dotted keys of `config` (a profile as written) whose value is the schema's default for
    that key: lines a profile need not hold, and that would hide a change of the default."""
    schema = schema or _load()

    def walk(instance, node, path):
        node = resolve_ref(node, schema)
        properties = node.get("properties") or {}
        extra = node.get("additionalProperties")
        for name, value in instance.items():
            sub = properties.get(name, extra if isinstance(extra, dict) else None)
            if sub is None:
                continue  # an unknown key: validation names it
            sub = resolve_ref(sub, schema)
            if "default" in sub and _same_value(value, sub["default"]):
                yield key_path([*path, name])
            elif isinstance(value, dict):
                yield from walk(value, sub, [*path, name])

    return list(walk(dict(config or {}), schema, []))


def schema_default(*path: str, schema: dict | None = None):
    """The default of one key (e.g. schema_default("evaluation", "min_bucket_size")): what library
    keyword defaults read instead of restating the value."""
    *block, key = path
    return block_defaults(*block, schema=schema)[key]
