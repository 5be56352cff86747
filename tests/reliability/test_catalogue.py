"""The reliability catalogue (docs/reliability.md): every class names a test that exists, rows
are numbered 1..N, and the README states N."""

from __future__ import annotations

import re

from ..conftest import REPO

ROW = re.compile(r"^\| (\d+) \| (.+?) \| `([^`:]+)::(\w+)` \|$")


def catalogue() -> list[tuple[int, str, str, str]]:
    text = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    section = text.split("## Every class and its test", 1)[1]
    return [(int(m[1]), m[2], m[3], m[4]) for line in section.splitlines() if (m := ROW.match(line))]


def test_every_class_names_an_existing_test():
    rows = catalogue()
    assert [n for n, *_ in rows] == list(range(1, len(rows) + 1))
    for _, klass, path, name in rows:
        source = (REPO / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {name}\(", source, re.M), f"{klass}: {path}::{name} not found"


def test_classes_are_distinct_and_at_least_120():
    rows = catalogue()
    assert len({klass for _, klass, *_ in rows}) == len(rows)
    assert len(rows) >= 120


def test_readme_states_the_count():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"**Reliability suite:** {len(catalogue())} classes" in readme
