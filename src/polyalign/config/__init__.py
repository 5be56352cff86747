"""The one configuration layer (docs/configuration.md).

`workflow/schemas/config.schema.yaml` is the only place a default is written. `resolve_config`
validates a merged config against it (every block closed, so a misspelt key fails naming its
path), fills every default in, and runs the cross-field checks of `checks.py`; the Snakefile calls
it before any rule is built. Library code reads defaults from the same schema (`block_defaults`).
"""

from .checks import check_config
from .schema import (
    SCHEMA_PATH,
    ConfigError,
    block_defaults,
    fill_defaults,
    load_schema,
    validate_schema,
)
from .values import load_yaml_file, nonfinite_numbers, oversized_blocks


def resolve_config(config: dict) -> dict:
    """The validated config with every default filled in (a new dict; `config` is unchanged).
    Raises ConfigError naming each offending key and the constraint it breaks."""
    from ..models.presets import resolve_model_block

    # before anything walks it: an alias bomb expands only here, within a budget
    problems = oversized_blocks(config)
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
    # the model preset first: its source/dtype/template must win over the schema's scratch defaults
    resolved = fill_defaults({**config, "model": resolve_model_block(config)})
    # NaN passes every schema bound (each comparison is false): refused before the bounds
    problems = nonfinite_numbers(resolved, load_schema())
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
    validate_schema(resolved)
    check_config(resolved)
    return resolved


__all__ = [
    "ConfigError",
    "SCHEMA_PATH",
    "block_defaults",
    "check_config",
    "fill_defaults",
    "load_schema",
    "load_yaml_file",
    "resolve_config",
    "validate_schema",
]
