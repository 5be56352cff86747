"""The import-layer check `make lint` runs: no import cycle among src/polyalign's modules or
among its units (top-level packages and modules), and no unit importing a higher layer.

Every import counts, also one inside a function or under TYPE_CHECKING: a lazy import still
ties the two modules together. Run as `python tools/import_layers.py`; exits 1 naming each
cycle and each upward import (importer, imported module, both layers).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "polyalign"

# Bottom to top. A unit imports units of its own layer or of the layers below it (never one
# above), and the units never form a cycle. Each layer's line says what belongs there.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # files, text, the config schema and typed settings, the registries' entries, provenance
    (
        "foundation",
        (
            "polyalign",
            "io",
            "text",
            "progress",
            "device",
            "config",
            "methods",
            "provenance",
        ),
    ),
    # what the stages share: the systems and seeds derived from the registries, records, buckets
    ("registries", ("systems", "baselines", "seeds", "records", "buckets")),
    # models, corpora, prompts, decoding and metrics: no stage of the pipeline
    ("building blocks", ("models", "data", "prompts", "metrics")),
    # the pipeline's stages, each a package or module run by rules
    (
        "stages",
        (
            "generation",
            "train",
            "preference",
            "features",
            "references",
            "critic",
            "evaluation",
            "detectors",
            "judge",
            "human_eval",
        ),
    ),
    # every paper table and figure is rendered here
    ("report", ("report",)),
    # run by the Snakefile or a command line only: config resolution and its cross-block checks,
    # the workflow's I/O helpers, recovery, prefetch, the compute estimate
    (
        "workflow",
        (
            "config.resolve",
            "config.checks",
            "config.paths",
            "workflow",
            "estimate",
        ),
    ),
]


def module_files(src: Path = SRC) -> dict[str, Path]:
    files = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


def _from_target(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The polyalign modules `module` imports anywhere in its body, each named by the deepest
    module the import reaches (`from .x import f` -> `pkg.x`; `from . import x` -> `pkg.x`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _from_target(node, module, path.name == "__init__.py")
            names = [f"{target}.{alias.name}" for alias in node.names]
            if not any(name in known for name in names):
                names = [target]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            # a module's own packages are imported before it anyway: no edge
            if name.startswith(PACKAGE + ".") and not (module + ".").startswith(name + "."):
                found.add(name)
    return found


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    files = module_files(src)
    return {module: imports_of(module, path, set(files)) for module, path in files.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def unit_of(module: str, layers=LAYERS) -> str:
    """The longest unit of `layers` that is `module` or contains it (units are named without
    the `polyalign.` prefix; `polyalign` itself is the package's __init__)."""
    name = module.removeprefix(PACKAGE + ".") if module != PACKAGE else PACKAGE
    units = [u for _, group in layers for u in group]
    matches = [u for u in units if name == u or name.startswith(u + ".")]
    if not matches:
        raise KeyError(f"{module}: in no unit of the import layers (tools/import_layers.py LAYERS)")
    return max(matches, key=len)


def problems(edges: dict[str, set[str]], layers=LAYERS) -> list[str]:
    layer_of = {u: i for i, (_, group) in enumerate(layers) for u in group}
    out = [f"import cycle: {' <-> '.join(c)}" for c in cycles(edges)]
    try:
        units = {m: unit_of(m, layers) for m in edges}
    except KeyError as e:
        return [*out, str(e.args[0])]
    unit_edges: dict[str, set[str]] = {}
    for module, targets in sorted(edges.items()):
        for target in sorted(targets):
            a, b = units[module], units[target]
            if a == b:
                continue
            unit_edges.setdefault(a, set()).add(b)
            if layer_of[b] > layer_of[a]:
                out.append(
                    f"upward import: {module} ({layers[layer_of[a]][0]}) imports {target} "
                    f"({layers[layer_of[b]][0]})"
                )
    out += [f"import cycle between units: {' <-> '.join(c)}" for c in cycles(unit_edges)]
    return out


def main() -> int:
    found = problems(import_graph())
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(
            f"{len(found)} import-layer problem(s); the layers are in tools/import_layers.py", file=sys.stderr
        )
        return 1
    print(f"import layers: no cycle, no upward import ({len(import_graph())} modules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
