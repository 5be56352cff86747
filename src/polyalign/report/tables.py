"""Writing tables as GitHub Markdown and LaTeX (booktabs) with tabulate."""
from __future__ import annotations

from tabulate import tabulate

from ..io import write_text


def render_tables(sections: list[dict], fmt: str) -> str:
    """sections: [{title, headers, rows, caption?}] -> one document in `fmt` ('md' or 'tex')."""
    parts = []
    for sec in sections:
        if fmt == "md":
            parts.append(f"### {sec['title']}\n")
            if sec.get("caption"):
                parts.append(sec["caption"] + "\n")
            parts.append(tabulate(sec["rows"], headers=sec["headers"], tablefmt="github", disable_numparse=True) + "\n")
        elif fmt == "tex":
            body = tabulate(sec["rows"], headers=sec["headers"], tablefmt="latex_booktabs", disable_numparse=True)
            caption = sec.get("caption", sec["title"]).replace("_", r"\_").replace("%", r"\%")
            parts.append("\\begin{table}[t]\n\\centering\n\\small\n" + body + "\n"
                         f"\\caption{{{caption}}}\n\\end{{table}}\n")
        else:
            raise ValueError(f"unknown table format {fmt!r}")
    return "\n".join(parts)


def write_tables(sections: list[dict], md_path, tex_path) -> None:
    write_text(md_path, render_tables(sections, "md"))
    write_text(tex_path, render_tables(sections, "tex"))
