"""A run under its own output root (config `output_root`): the Snakefile makes that directory the
working directory, so every rule's `results/...` and `paper_figures/...` land under it. Paths in
the config were written relative to the directory Snakemake was started in; `anchor_paths` rewrites
the ones that exist there relative to the output root (`data/paper/eli5` under `runs/paper`
becomes `../../data/paper/eli5`) so that they keep naming the same files. Relative, not absolute:
the paths end up in the rules' params, and an absolute path would change every param that holds
one when the checkout is moved or cloned elsewhere, rerunning the corpus build, pre-training and
training. An output root outside the project gets absolute paths (nothing relative survives a
move there anyway). Paths under results/ or paper_figures/ name the run's own outputs and stay
as they are (relative to the output root)."""

from __future__ import annotations

import os

RUN_OUTPUTS = ("results/", "paper_figures/")


def anchor_paths(value, base: str | os.PathLike, output_root: str | os.PathLike = "."):
    """`value` (a config or part of one) with every relative path that exists under `base` (the
    directory Snakemake was started in) rewritten to name the same file from `output_root` (a
    path relative to `base`, or absolute): relative to it when it lies inside `base`, else
    absolute. A path is a string with a separator in it (`data/x`, `./model`); a hub id such as
    `Qwen/Qwen2.5-3B` stays as it is unless a local folder of that name exists, which is what
    transformers and datasets would load from anyway."""
    base = os.path.abspath(base)
    root = os.path.normpath(os.path.join(base, output_root))
    inside = root == base or root.startswith(base + os.sep)
    if isinstance(value, dict) and "output_root" in value:
        # the root itself stays as written: rewritten from itself it would read "." (the project)
        rest = {k: v for k, v in value.items() if k != "output_root"}
        return {**_anchor(rest, base, root if inside else None), "output_root": value["output_root"]}
    return _anchor(value, base, root if inside else None)


def _anchor(value, base: str, root: str | None):
    if isinstance(value, dict):
        return {k: _anchor(v, base, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_anchor(v, base, root) for v in value]
    if (
        isinstance(value, str)
        and "/" in value
        and not os.path.isabs(value)
        and not value.startswith(RUN_OUTPUTS)
        and os.path.exists(os.path.join(base, value))
    ):
        target = os.path.normpath(os.path.join(base, value))
        return os.path.relpath(target, root) if root is not None else target
    return value
