"""Do two runs reach the same verdicts? Compares the replication reports of two runs (for example
the committed run with seeds 0-2 and a clean run of the same commit with seeds 3-5):

    python benchmarks/verdict_stability.py RUN_A/paper_figures/replication.md RUN_B/paper_figures/replication.md

Reads the claims table (one verdict per claim), the comparisons table (one verdict per claim,
language, comparison and metric) and the ablation verdicts ("What does the work"), and prints
every verdict of both runs side by side. Two kinds of change are instability:

- a **flip**: supported in one run, contradicted in the other (helps / hurts for an ablation);
- a **floor change**: below floor (no evidence) in one run and not in the other.

A move between supported or contradicted and inconclusive is reported but is no instability: an
inconclusive verdict is what a test at its power limit gives. Exit status 1 when any flip or floor
change is found.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DECIDED = {"supported": "+", "contradicted": "-", "helps": "+", "hurts": "-"}


def _rows(lines: list[str], header_start: str) -> list[list[str]]:
    """The body rows of the Markdown table whose header row starts with `header_start`."""
    for i, line in enumerate(lines):
        if line.startswith(header_start):
            out = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                out.append([c.strip() for c in row.strip().strip("|").split("|")])
            return out
    raise ValueError(f"no table with header {header_start!r}")


def verdicts(path: Path) -> dict[str, str]:
    """{item: verdict} of one replication report."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    out = {}
    for row in _rows(lines, "| # | claim |"):
        out[f"claim {row[0]}"] = row[4].strip("*")
    for row in _rows(lines, "| # | language | comparison |"):
        out[f"claim {row[0]} | {row[1]} | {row[2]} | {row[3]}"] = row[7]
    for line in lines:
        m = re.match(r"- (.+) vs (.+?): \*\*(.+?)\*\*(.*)", line)
        if m:
            # the summary ("no evidence" says only that no cell was decided) and, apart, the set
            # of its cells below the floor, which is where a floor change shows
            item = f"ablation {m.group(1)} vs {m.group(2)}"
            summary = m.group(3)
            out[item] = "no evidence" if summary.startswith("no evidence") else summary
            cells = re.search(r"below floor: ([^;)]*)", m.group(4))
            out[f"{item}: cells below floor"] = cells.group(1) if cells else "none"
    return out


def kind(verdict: str) -> str:
    """below floor | + | - | other (inconclusive, no detectable effect, mixed, not evaluated)."""
    if verdict.startswith("below floor"):
        return "below floor"
    return DECIDED.get(verdict, "other")


def compare(a: dict[str, str], b: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(item, verdict a, verdict b, change) for every item of either run."""
    rows = []
    for item in sorted(set(a) | set(b)):
        va, vb = a.get(item, "(absent)"), b.get(item, "(absent)")
        ka, kb = kind(va), kind(vb)
        if item.endswith(": cells below floor"):
            change = "FLOOR CHANGE" if va != vb else ""
        elif {ka, kb} == {"+", "-"}:
            change = "FLIP"
        elif (ka == "below floor") != (kb == "below floor"):
            change = "FLOOR CHANGE"
        elif va != vb:
            change = "moved (not instability)"
        else:
            change = ""
        rows.append((item, va, vb, change))
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    rows = compare(verdicts(Path(argv[0])), verdicts(Path(argv[1])))
    print(f"| item | {argv[0]} | {argv[1]} | change |\n|---|---|---|---|")
    for item, va, vb, change in rows:
        print(f"| {item} | {va} | {vb} | {change} |")
    bad = [r for r in rows if r[3] in ("FLIP", "FLOOR CHANGE")]
    moved = sum(r[3].startswith("moved") for r in rows)
    print(f"\n{len(rows)} verdicts; {len(bad)} flips or floor changes; {moved} moved without instability")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
