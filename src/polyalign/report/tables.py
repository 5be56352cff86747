"""Writing tables as GitHub Markdown (tabulate) and LaTeX (booktabs, written here).

A section is {title, headers, rows, caption?, best_columns?, best_in_rows?}:
- best_columns {column index: "max" | "min"}: the best value of each such column is bold in LaTeX;
- best_in_rows ("max" | "min", [column indices]): the best value among those columns of each row
  is bold (a per-bucket table whose columns are systems);
- not_ranked [row indices]: rows left out of best_columns (an oracle row is not a competitor).
A cell's value is its leading number ("0.412 [0.371, 0.455]" -> 0.412); ties are all bold; cells
without a number ("–") never are. In LaTeX, numeric columns are right-aligned and every table
carries a \\label (tab:<file stem>:<section slug>).
"""

from __future__ import annotations

import re
from pathlib import Path

from tabulate import tabulate

from ..io import write_text

_LEADING_NUMBER = re.compile(r"^\s*([-+−]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")
_NON_VALUES = {"", "–", "-", "n/a", "nan", "none"}
# A cell of a system that gave no answer ("no answer (k of n)"): a missing value, not text.
NO_ANSWER = "no answer"
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def leading_number(cell) -> float | None:
    """The number a cell starts with, or None ('–', text)."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, (int, float)):
        return float(cell)
    match = _LEADING_NUMBER.match(str(cell))
    return float(match.group(1).replace("−", "-")) if match else None


def is_numeric_column(rows: list[list], j: int) -> bool:
    """Every cell of column j is a number or an explicit missing value, and at least one is a number."""
    cells = [row[j] for row in rows]
    numbers = [leading_number(c) for c in cells]
    return any(n is not None for n in numbers) and all(
        n is not None or str(c).strip().lower() in _NON_VALUES or str(c).startswith(NO_ANSWER)
        for c, n in zip(cells, numbers)
    )


def best_cells(section: dict) -> set[tuple[int, int]]:
    """(row, column) of the cells to set in bold (see the module docstring)."""
    rows = section["rows"]
    bold = set()

    def pick(cells: list[tuple[int, int]], direction: str) -> None:
        values = {(i, j): leading_number(rows[i][j]) for i, j in cells}
        values = {k: v for k, v in values.items() if v is not None}
        if values:
            target = max(values.values()) if direction == "max" else min(values.values())
            bold.update(k for k, v in values.items() if v == target)

    ranked = [i for i in range(len(rows)) if i not in set(section.get("not_ranked", ()))]
    for j, direction in (section.get("best_columns") or {}).items():
        pick([(i, j) for i in ranked], direction)
    if section.get("best_in_rows"):
        direction, columns = section["best_in_rows"]
        for i in range(len(rows)):
            pick([(i, j) for j in columns], direction)
    return bold


def tex_escape(text) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in str(text))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def render_tex(section: dict, label: str) -> str:
    headers, rows = section["headers"], section["rows"]
    align = "".join("r" if is_numeric_column(rows, j) else "l" for j in range(len(headers)))
    bold = best_cells(section)

    def cell(i: int, j: int, value) -> str:
        text = tex_escape(value)
        return f"\\textbf{{{text}}}" if (i, j) in bold else text

    lines = [
        "\\begin{table}[t]",
        "\\centering",
        "\\small",
        f"\\begin{{tabular}}{{{align}}}",
        "\\toprule",
        " & ".join(tex_escape(h) for h in headers) + r" \\",
        "\\midrule",
    ]
    lines += [" & ".join(cell(i, j, v) for j, v in enumerate(row)) + r" \\" for i, row in enumerate(rows)]
    caption = tex_escape(section.get("caption", section["title"]))
    if section.get("best_columns") or section.get("best_in_rows"):
        caption += " Bold: the best value."
    lines += [
        "\\bottomrule",
        "\\end{tabular}",
        f"\\caption{{{caption}}}",
        f"\\label{{{label}}}",
        "\\end{table}",
    ]
    return "\n".join(lines) + "\n"


def render_tables(sections: list[dict], fmt: str, name: str = "table") -> str:
    """One document in `fmt` ('md' or 'tex'); `name` prefixes the LaTeX labels."""
    parts = []
    for sec in sections:
        if fmt == "md":
            parts.append(f"### {sec['title']}\n")
            if sec.get("caption"):
                parts.append(sec["caption"] + "\n")
            parts.append(
                tabulate(sec["rows"], headers=sec["headers"], tablefmt="github", disable_numparse=True) + "\n"
            )
        elif fmt == "tex":
            parts.append(render_tex(sec, f"tab:{name}:{slug(sec['title'])}"))
        else:
            raise ValueError(f"unknown table format {fmt!r}")
    return "\n".join(parts)


def write_tables(sections: list[dict], md_path, tex_path) -> None:
    write_text(md_path, render_tables(sections, "md"))
    write_text(tex_path, render_tables(sections, "tex", name=Path(tex_path).stem))
