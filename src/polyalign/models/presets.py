"""Model family presets: `model.preset` names an entry of the config's `model_presets`, whose
source (hub id or local path), chat template and dtype fill the `model:` block; keys set in the
`model:` block itself win, and `model.path` (a local copy) replaces the preset's source.

The Snakefile resolves the block once, right after validation, so every rule and script sees a
plain `model:` block (`source`, `dtype`, `chat_template`, ...) whatever the profile.
"""

from __future__ import annotations

PRESET_KEYS = ("source", "chat_template", "dtype", "max_length", "attn_implementation")


def resolve_model_block(config: dict) -> dict:
    """The `model:` block with its preset applied and `path` folded into `source`."""
    block = {
        k: v for k, v in (config.get("model") or {}).items() if not (k in ("preset", "path") and v is None)
    }
    presets = config.get("model_presets") or {}
    name = block.pop("preset", None)
    if name is not None:
        if name not in presets:
            raise ValueError(f"model.preset: unknown preset {name!r} (model_presets has {sorted(presets)})")
        preset = presets[name]
        unknown = set(preset) - set(PRESET_KEYS)
        if unknown:
            raise ValueError(
                f"model_presets.{name}: unknown key(s) {sorted(unknown)} (known: {list(PRESET_KEYS)})"
            )
        block = {**preset, **block}
        block["family"] = name
    path = block.pop("path", None)
    if path:
        block["source"] = str(path)
    return block
