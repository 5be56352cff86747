"""The code part of a training run's identity: what computes the loss and the update.

Two parts: the library digest the workflow itself uses as a rule's rerun trigger
(`polyalign.provenance.source_digest`), taken from the trainer (the update) and from the module
that defines the loss function (every loss it calls, the models), and the source
of the loss function handed to `train`, with the functions its closure holds (a loss defined in
a script or a test lives outside the library). A checkpoint written by other code is set aside
like any other identity change: resuming it would mix two objectives in one model.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import tempfile
from functools import cache
from pathlib import Path

TRAINER_MODULE = "polyalign.train.trainer"


@cache
def library_digest(*modules: str) -> str:
    """The workflow's digest of the trainer and of `modules` (library modules, dotted names)."""
    from ..provenance import source_digest

    # source_digest follows a script's imports; this script imports the modules by name, so
    # their relative imports resolve inside the package.
    names = sorted({TRAINER_MODULE, *(m for m in modules if m.split(".")[0] == "polyalign")})
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "train_entry.py"
        script.write_text("".join(f"import {name}\n" for name in names), encoding="utf-8")
        return source_digest(script)


def _sources(fn, depth: int = 2) -> list[str]:
    while isinstance(fn, functools.partial):
        fn = fn.func
    try:
        out = [inspect.getsource(fn)]
    except (OSError, TypeError):  # a builtin or a function typed at a prompt
        out = [getattr(fn, "__qualname__", repr(fn))]
    if depth > 0:
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                held = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if callable(held) and (inspect.isfunction(held) or isinstance(held, functools.partial)):
                out += _sources(held, depth - 1)
    return out


def loss_fn_digest(loss_fn) -> str:
    return hashlib.sha256("\0".join(_sources(loss_fn)).encode()).hexdigest()[:16]


def code_identity(loss_fn) -> dict:
    module = getattr(getattr(loss_fn, "func", loss_fn), "__module__", None) or ""
    return {"library": library_digest(module), "loss_fn": loss_fn_digest(loss_fn)}
