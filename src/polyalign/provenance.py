"""Which library code a workflow script runs, as one digest (a rule's rerun trigger).

`source_digest(script)` follows the script's `polyalign` imports through the source tree, found
by reading the code with `ast` without importing it. It covers absolute and relative imports, and
the `__init__` of every package on the way. It hashes each reached module's path and bytes.
Editing any module a rule's script can reach changes the digest; Snakemake sees it as a changed
param and reruns the rule. Imports made inside functions count too (ast sees every import
statement), so the digest errs on the side of rerunning.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1]  # the directory holding the polyalign package
PACKAGE = "polyalign"


def module_file(name: str, src: Path = SRC) -> Path | None:
    """The source file of dotted module `name` (a package's __init__.py), or None."""
    base = src.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_names(path: Path, module: str, is_package: bool) -> set[str]:
    """Dotted names of the polyalign modules `path` imports (each `from x import y` also tries x.y)."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                anchor = parts if is_package else parts[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
    return {n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")}


def reachable_modules(script: str | Path, src: Path = SRC) -> dict[str, Path]:
    """Every polyalign module the script can import, with its parent packages: name -> file."""
    found: dict[str, Path] = {}
    todo = sorted(_imported_names(Path(script), "__main__", False))
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
            sub = ".".join(parts[:i])
            if sub in found:
                continue
            path = module_file(sub, src)
            if path is None:
                continue  # `from pkg import function`: the name is not a module
            found[sub] = path
            todo.extend(_imported_names(path, sub, path.name == "__init__.py"))
    return found


@cache
def _digest(script: str, src: str, stamp: tuple) -> str:
    h = hashlib.sha256()
    for name, path in sorted(reachable_modules(script, Path(src)).items()):
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def source_digest(script: str | Path, src: Path = SRC) -> str:
    """16 hex digits identifying the library code `script` runs."""
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in sorted(Path(src).rglob("*.py")))
    return _digest(str(script), str(src), stamp)
