"""`resolve_config`: the Snakefile's one call before any rule is built (docs/configuration.md).

A module of its own, loaded lazily by `polyalign.config`, because the cross-field checks it runs
import the corpus registry and every loader: a job that only reads settings does not run them, so
its rerun trigger (polyalign.provenance) must not contain them.
"""

from .checks import check_config
from .schema import ConfigError, fill_defaults, load_schema, validate_schema
from .values import nonfinite_numbers, oversized_blocks


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
