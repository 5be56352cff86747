"""`--config key=value` overrides with YAML types inside lists and mappings.

Snakemake parses a `--config` value as an int, a float, a bool, else with YAML's BaseLoader,
which keeps every scalar inside a list or mapping a string: `seeds=[3,4,5]` arrives as
["3", "4", "5"] and `model={hidden_size: 48}` as {"hidden_size": "48"}, which the strict schema
rejects. `typed_overrides` parses the same command-line entries with YAML's safe loader, and
`apply_overrides` merges them back over the config the way Snakemake merged the strings (mappings
merged key by key, everything else replaced), before the schema sees it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import yaml

from .schema import ConfigError


def typed_overrides(entries: Iterable[str] | None) -> dict:
    """{key: value} of the `--config` entries ("key=value") whose value is a YAML flow list or
    mapping, parsed with YAML types. Scalar entries are left to Snakemake, which types them."""
    overrides = {}
    for entry in entries or ():
        key, sep, text = entry.partition("=")
        if not sep:
            continue  # Snakemake itself rejects it, naming the entry
        if not text.lstrip().startswith(("[", "{")):
            continue
        try:
            overrides[key.strip()] = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ConfigError(
                f"--config {key.strip()}: not a YAML list or mapping: {text!r} ({err})"
            ) from None
    return overrides


def apply_overrides(config: Mapping, overrides: Mapping) -> dict:
    """`config` with `overrides` merged over it (a new dict): mappings key by key, recursively;
    any other value replaces the one in `config`."""
    merged = dict(config)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = apply_overrides(merged[key], value)
        else:
            merged[key] = value
    return merged
