"""Which library code a workflow script runs, as one digest (a rule's rerun trigger).

`source_digest(script)` follows the script's `polyalign` imports through the source tree, read
with `ast` without importing anything (docs/workflow.md, "What reruns a rule"):

- every import statement counts, module level or inside a function, absolute or relative, and
  the `__init__` of every package on the way;
- `from pkg import name`, where `pkg/__init__.py` resolves `name` lazily through its `_LAZY`
  table (name -> submodule), reaches that submodule, and only for the names imported;
- a string literal naming a non-Python file next to a reached module (`published_numbers.yaml`), or
  one folder down (`templates/llama3.jinja`),
  adds that package data file, bytes and all;
- the config schema is the exception: a job reads defaults from it only through
  `schema_default("block", "key")` and `block_defaults("block")`, so the digest holds the values
  those calls return in the reached modules (with literal arguments), not the file. A reached
  module that reads the schema any other way (a call with computed arguments, `fill_defaults`,
  `validate_schema`, ...) puts the whole file in the digest. Editing one default therefore reruns
  the rules whose code reads that default, and the rules whose params hold it (the resolved
  config), not every rule that imports the config package.

A module counts by its name and its syntax tree without docstrings (`ast.dump` has no comments,
blank lines or line numbers), so a comment, a docstring or a reformat changes no digest, and any
edit Python would execute differently does. The library imports nothing through `importlib`
that this walk cannot see (tests/test_provenance.py keeps it so).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

SRC = Path(__file__).resolve().parents[1]  # the directory holding the polyalign package
PACKAGE = "polyalign"
LAZY_TABLE = "_LAZY"  # a package __init__'s {attribute: submodule} table read by its __getattr__
SCHEMA_FILE = "polyalign.config/config.schema.yaml"  # its package_data key
# the schema module defines the readers below, this one digests with them: their calls are no reads
NOT_READERS = ("polyalign.config.schema", "polyalign.provenance")
NARROW_READERS = ("schema_default", "block_defaults")  # with literal arguments: the values only
KEY_READER = "defaulted_keys"  # key names only; with a computed block, those of every block
WHOLE_READERS = ("fill_defaults", "validate_schema", "resolve_config", "load_schema", "restated_defaults")


@dataclass(frozen=True)
class ModuleFacts:
    """What the digest needs from one module's source."""

    fingerprint: str  # sha256 of the syntax tree without docstrings
    imports: frozenset[str]  # dotted names it imports (for `from x import y`: x and x.y)
    from_names: frozenset[tuple[str, str]]  # (x, y) of every `from x import y`
    module_objects: frozenset[str]  # modules it holds as objects, whose attributes it can reach
    lazy: tuple[tuple[str, str], ...]  # its `_LAZY` table, for a package __init__
    strings: frozenset[str]  # string literals that could name a file next to it
    schema_reads: frozenset[tuple[str, tuple[str, ...]]]  # (reader, literal arguments) calls
    whole_schema: bool  # reads the schema in a way the digest cannot narrow


def module_index(src: Path = SRC) -> dict[str, Path]:
    """Every polyalign module under `src`: dotted name -> file (a package's __init__.py)."""
    index = {}
    todo = [(src / PACKAGE, PACKAGE)]
    while todo:
        directory, package = todo.pop()
        for entry in os.scandir(directory):
            if entry.is_dir() and entry.name != "__pycache__":
                todo.append((Path(entry.path), f"{package}.{entry.name}"))
            elif entry.is_file() and entry.name.endswith(".py"):
                stem = entry.name[:-3]
                index[package if stem == "__init__" else f"{package}.{stem}"] = Path(entry.path)
    return index


def strip_docstrings(tree: ast.AST) -> ast.AST:
    """`tree` without the docstring of its module, classes and functions (in place)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]
    return tree


def _lazy_table(tree: ast.Module) -> tuple[tuple[str, str], ...]:
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == LAZY_TABLE for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            return tuple(
                sorted(
                    (ast.literal_eval(k), ast.literal_eval(v))
                    for k, v in zip(node.value.keys, node.value.values)
                )
            )
    return ()


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    anchor = parts if is_package else parts[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join(anchor + ([node.module] if node.module else []))


def _ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


@cache
def _facts(source: bytes, path: str, module: str, is_package: bool) -> ModuleFacts:
    """Parsed once per file content."""
    tree = ast.parse(source, filename=path)
    imports, from_names, module_objects, strings, schema_reads = set(), set(), set(), set(), set()
    whole_schema = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                imports.add(alias.name)
                parts = alias.name.split(".")
                # `import a.b.c` binds a (a.b.c reachable as attributes); `as x` binds a.b.c
                module_objects.update(
                    [alias.name] if alias.asname else [".".join(parts[: i + 1]) for i in range(len(parts))]
                )
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            imports.add(base)
            for alias in node.names:
                imports.add(f"{base}.{alias.name}")
                from_names.add((base, alias.name))
                module_objects.add(f"{base}.{alias.name}")
        elif isinstance(node, ast.Call) and module not in NOT_READERS:
            called = (
                node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            )
            literal = all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)
            if called in NARROW_READERS and literal and not node.keywords:
                schema_reads.add((called, tuple(a.value for a in node.args)))
            elif called == KEY_READER:
                schema_reads.add((called, tuple(a.value for a in node.args) if literal else ("*",)))
            elif called in NARROW_READERS or called in WHOLE_READERS:
                whole_schema = True
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            value = node.value
            if 0 < len(value) < 200 and "\n" not in value and not value.startswith("/") and ".." not in value:
                strings.add(node.value)
    fingerprint = hashlib.sha256(ast.dump(strip_docstrings(tree)).encode()).hexdigest()
    return ModuleFacts(
        fingerprint=fingerprint,
        imports=frozenset(n for n in imports if _ours(n)),
        from_names=frozenset((b, n) for b, n in from_names if _ours(b)),
        module_objects=frozenset(n for n in module_objects if _ours(n)),
        lazy=_lazy_table(tree) if is_package else (),
        strings=frozenset(strings),
        schema_reads=frozenset(schema_reads),
        whole_schema=whole_schema,
    )


def module_facts(name: str, path: Path) -> ModuleFacts:
    return _facts(path.read_bytes(), str(path), name, path.name == "__init__.py")


def _script_facts(script: Path) -> ModuleFacts:
    return module_facts("__main__", script)


def _lazy_of(package: str, index: dict[str, Path]) -> tuple[tuple[str, str], ...]:
    """The `_LAZY` table of `package` (empty for a module or a package without one)."""
    init = index.get(package)
    if init is None or init.name != "__init__.py":
        return ()
    return module_facts(package, init).lazy


def reachable_modules(script: str | Path, src: Path = SRC) -> dict[str, Path]:
    """Every polyalign module the script can import, with its parent packages: name -> file."""
    index = module_index(src)
    found: dict[str, Path] = {}
    pending: list[ModuleFacts] = [_script_facts(Path(script))]
    while pending:
        facts = pending.pop()
        names = set(facts.imports)
        for base, attr in facts.from_names:  # `from pkg import name` of a lazily loaded name
            submodule = dict(_lazy_of(base, index)).get(attr)
            if submodule is not None:
                names.add(f"{base}.{submodule}")
        for held in facts.module_objects:  # `pkg.name` may load any of pkg's lazy submodules
            names.update(f"{held}.{submodule}" for _, submodule in _lazy_of(held, index))
        for name in sorted(names):
            parts = name.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
                sub = ".".join(parts[:i])
                if sub in found:
                    continue
                path = index.get(sub)
                if path is None:
                    continue  # `from pkg import function`: the name is not a module
                found[sub] = path
                pending.append(module_facts(sub, path))
    return found


def package_data(modules: dict[str, Path]) -> dict[str, Path]:
    """The non-Python files next to `modules` that one of them names in a string literal."""
    data = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        # package data next to the module, or one folder down (`templates/llama3.jinja`)
        files = {
            p.relative_to(path.parent).as_posix()
            for p in (*path.parent.glob("*"), *path.parent.glob("*/*"))
            if p.suffix not in (".py", ".pyc") and p.is_file() and "__pycache__" not in p.parts
        }
        for literal in sorted(files & module_facts(name, path).strings):
            data[f"{package}/{literal}"] = path.parent / literal
    return data


def source_digest(script: str | Path, src: Path = SRC) -> str:
    """16 hex digits identifying the library code and package data `script` runs."""
    modules = reachable_modules(script, src)
    h = hashlib.sha256()
    for name, path in sorted(modules.items()):
        h.update(name.encode() + b"\0" + module_facts(name, path).fingerprint.encode() + b"\0")
    for key, path in sorted(package_data(modules).items()):
        content = schema_part(modules, path) if key == SCHEMA_FILE else path.read_bytes()
        h.update(key.encode() + b"\0" + content + b"\0")
    return h.hexdigest()[:16]


@cache
def _parsed_schema(text: str) -> dict:
    """The schema parsed once per content: every rule's digest reads it (a Snakefile parse built
    ~40 rules' digests from 40 parses, half of a dry run's time)."""
    return yaml.safe_load(text)


def schema_part(modules: dict[str, Path], schema_path: Path) -> bytes:
    """What of the config schema the `modules` read: the whole file, or the values of their
    literal `schema_default` / `block_defaults` calls."""
    facts = [module_facts(name, path) for name, path in modules.items()]
    if any(f.whole_schema for f in facts):
        return schema_path.read_bytes()
    from polyalign.config.schema import block_defaults, defaulted_keys, schema_default

    schema = _parsed_schema(schema_path.read_text(encoding="utf-8"))

    def every_blocks_keys(*block, schema):
        if block != ("*",):
            return defaulted_keys(*block, schema=schema)
        blocks = [b for b, node in schema["properties"].items() if "properties" in node or "$ref" in node]
        return {b: defaulted_keys(b, schema=schema) for b in blocks}

    readers = {
        "schema_default": schema_default,
        "block_defaults": block_defaults,
        KEY_READER: every_blocks_keys,
    }
    values = {}
    for name, path in sorted(modules.items()):
        for reader, args in sorted(module_facts(name, path).schema_reads):
            try:
                values[f"{reader}{args}"] = readers[reader](*args, schema=schema)
            except (KeyError, IndexError) as e:
                raise ValueError(f"{path}: {reader}{args} names no key of {schema_path} ({e})") from e
    return json.dumps(values, sort_keys=True, default=str).encode()
