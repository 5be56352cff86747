"""Table 2 and the per-bucket table on a fixed summary."""

import pytest

from polyalign.io import InputError
from polyalign.report.bucket_table import bucket_sections
from polyalign.report.table2 import (
    format_ci,
    per_seed_sections,
    table2_sections,
    write_table2,
    write_table2_per_seed,
)
from polyalign.report.tables import render_tables

from .fake_summary import summary


def test_format_ci():
    assert format_ci({"point": 0.4123, "low": 0.371, "high": 0.4551}) == "0.412 [0.371, 0.455]"
    assert format_ci({"point": 0.4123, "low": None, "high": None}) == "0.412"
    assert format_ci({"point": None}) == "–"
    assert format_ci(None) == "–"


def test_table2_markdown_rows():
    md = render_tables(table2_sections(summary()), "md")
    lines = md.splitlines()
    start = lines.index("### Table 2: main benchmark (en)")
    assert lines[start + 4] == (
        "| System     | QA-F1                | BNG-macro            | "
        "G-MAUVE              | NUF                  | Aggregate            | "
        "Lang. fid.           |"
    )
    rows = lines[start + 6 : start + 12]
    assert rows == [
        "| BaseLM     | 0.100 [0.050, 0.150] | 1.000 [0.900, 1.100] | 0.500 [0.450, 0.550] | 0.200 [0.100, 0.300] | 0.300 [0.250, 0.350] | 1.000 [0.900, 1.000] |",
        "| CoT        | 0.200 [0.150, 0.250] | 0.900 [0.800, 1.000] | 0.550 [0.500, 0.600] | 0.250 [0.150, 0.350] | 0.350 [0.300, 0.400] | 0.900 [0.800, 1.000] |",
        "| SFT        | 0.300 [0.250, 0.350] | 0.800 [0.700, 0.900] | 0.600 [0.550, 0.650] | 0.300 [0.200, 0.400] | 0.400 [0.350, 0.450] | 0.800 [0.700, 1.000] |",
        "| Bucket-SFT | 0.400 [0.350, 0.450] | 0.700 [0.600, 0.800] | 0.650 [0.600, 0.700] | 0.350 [0.250, 0.450] | 0.450 [0.400, 0.500] | 0.700 [0.600, 1.000] |",
        "| DPO        | 0.500 [0.450, 0.550] | 0.600 [0.500, 0.700] | 0.700 [0.650, 0.750] | 0.400 [0.300, 0.500] | 0.500 [0.450, 0.550] | 0.600 [0.500, 1.000] |",
        "| HDPO       | 0.600 [0.550, 0.650] | 0.500 [0.400, 0.600] | 0.750 [0.700, 0.800] | 0.450 [0.350, 0.550] | 0.550 [0.500, 0.600] | 0.500 [0.400, 1.000] |",
    ]
    assert "### Table 2: main benchmark (zh)" in md
    assert "38 test prompts, 2 run seeds (0, 1)" in md and "100 resamples" in md


def test_table2_per_seed_rows(tmp_path):
    sections = per_seed_sections(summary(), systems=["sft", "hdpo"], languages=["en"])
    assert sections[0]["headers"][:3] == ["System", "Seed", "QA-F1"]
    assert [r[:3] for r in sections[0]["rows"]] == [
        ["SFT", "0", "0.290 [0.240, 0.340]"],
        ["SFT", "1", "0.310 [0.260, 0.360]"],
        ["HDPO", "0", "0.590 [0.540, 0.640]"],
        ["HDPO", "1", "0.610 [0.560, 0.660]"],
    ]
    write_table2_per_seed(summary(), tmp_path / "s.md", tmp_path / "s.tex")
    assert "Table 2 per seed (zh)" in (tmp_path / "s.md").read_text()


def test_table2_files_and_system_selection(tmp_path):
    write_table2(summary(), tmp_path / "t.md", tmp_path / "t.tex", systems=["sft", "hdpo"])
    tex = (tmp_path / "t.tex").read_text()
    assert "\\toprule" in tex and "HDPO" in tex and "BaseLM" not in tex
    with pytest.raises(InputError, match="not in the summary"):
        table2_sections(summary(), systems=["sft", "ppo"])


def test_bucket_table():
    sections = bucket_sections(summary(), systems=["base", "hdpo"])
    assert [s["title"] for s in sections] == [
        "Per-bucket BNG (en)",
        "Per-bucket QA-F1 (en)",
        "Per-bucket BNG (zh)",
        "Per-bucket QA-F1 (zh)",
    ]
    assert sections[0]["headers"] == ["bucket", "n", "eval", "BaseLM", "HDPO"]
    assert sections[0]["rows"] == [
        ["en / multi / dialogue / short", 30, "yes", "0.500", "1.000"],
        ["en / single / qa / short", 8, "no", "–", "–"],
    ]
    assert sections[1]["rows"][1] == ["en / single / qa / short", 8, "no", "0.000", "0.500"]


def test_leading_number_and_numeric_columns():
    from polyalign.report.tables import is_numeric_column, leading_number

    assert leading_number("0.412 [0.371, 0.455]") == 0.412
    assert leading_number(30) == 30.0 and leading_number("–") is None and leading_number("en / x") is None
    assert leading_number("-1.5e-3 x") == -0.0015
    rows = [["a", "1.0", "–", "yes"], ["b", "2 [1, 3]", "–", "no"]]
    assert [is_numeric_column(rows, j) for j in range(4)] == [False, True, False, False]


def test_table2_tex_right_aligns_bolds_the_best_and_has_a_label():
    tex = render_tables(table2_sections(summary()), "tex", name="table2_main_benchmark")
    first = tex.split("\\end{table}")[0]
    assert "\\begin{tabular}{lrrrrr" in first
    assert "\\label{tab:table2_main_benchmark:table-2-main-benchmark-en}" in first
    body = first.split("\\midrule")[1].split("\\bottomrule")[0].strip().splitlines()
    hdpo = body[5].split(" & ")
    # fake summary: HDPO has the highest QA-F1, G-MAUVE, NUF, Aggregate and the lowest BNG
    assert hdpo[0] == "HDPO" and all(c.startswith("\\textbf{") for c in hdpo[1:6])
    others = [row.split(" & ")[1:6] for row in body[:5]]  # QA-F1 .. Aggregate of the other systems
    assert not any(c.startswith("\\textbf{") for row in others for c in row)
    baselm = body[0].split(" & ")
    assert baselm[6].startswith("\\textbf{1.000")  # the fake summary's best language fidelity


def test_best_cells_ties_rows_and_unranked_rows():
    from polyalign.report.tables import best_cells

    section = {
        "headers": ["s", "x", "y"],
        "rows": [["a", "1", "5"], ["b", "1", "4"], ["oracle", "9", "0"]],
        "best_columns": {1: "max", 2: "min"},
        "not_ranked": [2],
    }
    assert best_cells(section) == {(0, 1), (1, 1), (1, 2)}
    per_row = {
        "headers": ["bucket", "n", "A", "B"],
        "rows": [["b1", 30, "0.5", "0.2"], ["b2", 8, "–", "–"]],
        "best_in_rows": ("min", [2, 3]),
    }
    assert best_cells(per_row) == {(0, 3)}


def test_bucket_table_tex_bolds_the_best_system_per_bucket():
    tex = render_tables(bucket_sections(summary(), systems=["base", "hdpo"]), "tex", name="t")
    first = tex.split("\\end{table}")[0]
    assert "\\begin{tabular}{lrlrr}" in first
    assert "en / multi / dialogue / short & 30 & yes & \\textbf{0.500} & 1.000" in first
