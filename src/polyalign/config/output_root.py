"""A run under its own output root (config `output_root`): the Snakefile makes that directory the
working directory, so every rule's `results/...` and `paper_figures/...` land under it. Paths in
the config were written relative to the directory Snakemake was started in; `anchor_paths` makes
the ones that exist there absolute so that they keep naming the same files. Paths under results/
or paper_figures/ name the run's own outputs and stay relative (to the output root)."""

from __future__ import annotations

import os

RUN_OUTPUTS = ("results/", "paper_figures/")


def anchor_paths(value, base: str | os.PathLike):
    """`value` (a config or part of one) with every relative path that exists under `base` made
    absolute. A path is a string with a separator in it (`data/x`, `./model`); a hub id such as
    `Qwen/Qwen2.5-3B` stays as it is unless a local folder of that name exists, which is what
    transformers and datasets would load from anyway."""
    if isinstance(value, dict):
        return {k: anchor_paths(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [anchor_paths(v, base) for v in value]
    if (
        isinstance(value, str)
        and "/" in value
        and not os.path.isabs(value)
        and not value.startswith(RUN_OUTPUTS)
        and os.path.exists(os.path.join(base, value))
    ):
        return os.path.normpath(os.path.join(os.path.abspath(base), value))
    return value
