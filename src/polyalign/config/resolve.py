"""`resolve_config`: the Snakefile's one call before any rule is built (docs/configuration.md).

A module of its own, loaded lazily by `polyalign.config`, because the cross-field checks it runs
import the corpus registry and every loader: a job that only reads settings does not run them, so
its rerun trigger (polyalign.provenance) must not contain them.
"""

from .checks import check_config
from .schema import fill_defaults, validate_schema


def resolve_config(config: dict) -> dict:
    """The validated config with every default filled in (a new dict; `config` is unchanged).
    Raises ConfigError naming each offending key and the constraint it breaks."""
    from ..models.presets import resolve_model_block

    # the model preset first: its source/dtype/template must win over the schema's scratch defaults
    resolved = fill_defaults({**config, "model": resolve_model_block(config)})
    validate_schema(resolved)
    check_config(resolved)
    return resolved
