"""The one configuration layer (docs/configuration.md).

`config.schema.yaml` (next to this file, shipped as package data) is the only place a default is
written; the profiles under config/ name only what they change. `resolve_config`
validates a merged config against it (every block closed, so a misspelt key fails naming its
path), fills every default in, and runs the cross-field checks of `checks.py`; the Snakefile calls
it before any rule is built. Library code reads defaults from the same schema (`block_defaults`).
"""

from .checks import check_config
from .schema import (
    SCHEMA_RESOURCE,
    ConfigError,
    block_defaults,
    fill_defaults,
    load_schema,
    restated_defaults,
    schema_default,
    validate_schema,
)


def resolve_config(config: dict) -> dict:
    """The validated config with every default filled in (a new dict; `config` is unchanged).
    Raises ConfigError naming each offending key and the constraint it breaks."""
    from ..models.presets import resolve_model_block

    # the model preset first: its source/dtype/template must win over the schema's scratch defaults
    resolved = fill_defaults({**config, "model": resolve_model_block(config)})
    validate_schema(resolved)
    check_config(resolved)
    return resolved


__all__ = [
    "ConfigError",
    "SCHEMA_RESOURCE",
    "block_defaults",
    "check_config",
    "fill_defaults",
    "load_schema",
    "resolve_config",
    "restated_defaults",
    "schema_default",
    "validate_schema",
]
