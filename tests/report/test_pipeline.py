"""The pipeline figure's parsing of `snakemake --rulegraph` output and its layout."""

import pytest

from polyalign.report import figures as F
from polyalign.report import pipeline as P

from ..conftest import REPO

DOT = """digraph snakemake_dag {
    graph[bgcolor=white, margin=0];
    node[shape=box, style=rounded, fontname=sans,                 fontsize=10, penwidth=2];
    edge[penwidth=2, color=grey];
	0[label = "all", color = "0.00 0.6 0.85", style="rounded"];
	1[label = "fetch", color = "0.02 0.6 0.85", style="rounded"];
	2[label = "build", color = "0.04 0.6 0.85", style="rounded"];
	3[label = "train", color = "0.23 0.6 0.85", style="rounded"];
	4[label = "table", color = "0.07 0.6 0.85", style="rounded"];
	1 -> 2
	2 -> 3
	2 -> 4
	3 -> 4
	4 -> 0
}
"""


def test_parse_rulegraph():
    graph = P.parse_rulegraph(DOT)
    assert sorted(graph.nodes) == ["all", "build", "fetch", "table", "train"]
    assert sorted(graph.edges) == [
        ("build", "table"),
        ("build", "train"),
        ("fetch", "build"),
        ("table", "all"),
        ("train", "table"),
    ]
    with pytest.raises(P.RuleGraphError, match="no rule"):
        P.parse_rulegraph("Building DAG of jobs...")
    with pytest.raises(P.RuleGraphError, match="9 -> 1"):
        P.parse_rulegraph(DOT.replace("4 -> 0", "9 -> 1"))


def _shuffled_edges(dot: str) -> str:
    # the same graph with its edge lines in another order, as Snakemake prints them from run
    # to run
    lines = dot.splitlines()
    edge_at = [i for i, line in enumerate(lines) if "->" in line]
    shuffled = [lines[i] for i in reversed(edge_at)]
    for i, line in zip(edge_at, shuffled):
        lines[i] = line
    return "\n".join(lines) + "\n"


def test_canonical_rulegraph_sorts_only_the_edge_lines():
    shuffled = _shuffled_edges(DOT)
    assert shuffled != DOT
    assert P.canonical_rulegraph(shuffled) == DOT
    assert P.canonical_rulegraph(DOT) == DOT
    # numeric order, not text order: 10 comes after 9
    dot = DOT.replace("4 -> 0", "10 -> 0").replace("3 -> 4", "9 -> 4")
    lines = [
        line.strip() for line in P.canonical_rulegraph(_shuffled_edges(dot)).splitlines() if "->" in line
    ]
    assert lines == ["1 -> 2", "2 -> 3", "2 -> 4", "9 -> 4", "10 -> 0"]


def test_parsed_graph_does_not_depend_on_the_edge_order():
    a, b = P.parse_rulegraph(DOT), P.parse_rulegraph(_shuffled_edges(DOT))
    assert list(a.edges) == list(b.edges) and list(a.nodes) == list(b.nodes)


def test_layers_follow_the_longest_path():
    pos = P.layered_positions(P.parse_rulegraph(DOT))
    assert {n: y for n, (x, y) in pos.items()} == {
        "fetch": 0,
        "build": -1,
        "train": -2,
        "table": -3,
        "all": -4,
    }


def test_rule_stages(tmp_path):
    (tmp_path / "data.smk").write_text(
        "rule fetch:\n    output:\n        'x'\n\n\nrule build:\n    input: 'x'\n"
    )
    (tmp_path / "models.smk").write_text("# rule in a comment: no\nrule train:\n    input: 'y'\n")
    assert P.rule_stages(tmp_path) == {"fetch": "data", "build": "data", "train": "models"}


def test_figure_draws_direct_edges_only_and_hides_all(monkeypatch, tmp_path):
    figs = []
    monkeypatch.setattr(P, "save_figure", lambda fig, png, pdf, chain: figs.append(fig))
    P.figure_pipeline(
        P.parse_rulegraph(DOT),
        {"fetch": "data", "build": "data", "train": "models"},
        tmp_path / "p.png",
        tmp_path / "p.pdf",
    )
    (fig,) = figs
    ax = fig.axes[0]
    boxes = sorted(t.get_text() for t in ax.texts)
    arrows = [a for a in ax.texts if a.get_text() == ""]
    assert boxes == ["", "", "", "build", "fetch", "table", "train"]  # 3 arrows (annotations) + 4 rules
    assert len(arrows) == 3  # build -> table is implied by build -> train -> table
    F.plt.close(fig)


def test_cycles_of_wildcard_rules_are_cut_at_their_closing_edge():
    from polyalign.report.pipeline import acyclic_backbone

    nx = P.nx
    g = nx.DiGraph([("a", "features"), ("features", "critic"), ("critic", "dpo"), ("dpo", "features")])
    backbone, removed = acyclic_backbone(g)
    assert nx.is_directed_acyclic_graph(backbone)
    assert len(removed) == 1 and removed[0] in g.edges
    assert set(backbone.edges) | set(removed) == set(g.edges)


def test_stage_colors_distinct_for_every_rule_file():
    stages = [f"stage{i}" for i in range(14)]
    for n in (11, 12, 14):
        colors = P.stage_colors(stages[:n])
        assert len(set(colors.values())) == n


def test_figure_bytes_do_not_depend_on_the_hash_seed(tmp_path):
    # Python salts string hashes per process; the drawn figure must not follow that salt
    import subprocess
    import sys

    # the embedded workflow's own rule graph, as `snakemake --rulegraph` printed it
    graph = REPO / "tests/fixtures/rulegraph_embedded.dot"
    script = (
        "import sys\n"
        "from polyalign.report.pipeline import figure_pipeline, parse_rulegraph, rule_stages\n"
        "g = parse_rulegraph(open(sys.argv[1]).read())\n"
        "figure_pipeline(g, rule_stages(sys.argv[3]), sys.argv[2] + '.png', sys.argv[2] + '.pdf')\n"
    )
    outputs = []
    for salt in ("1", "2", "3"):
        env = {**__import__("os").environ, "PYTHONHASHSEED": salt}
        out = tmp_path / f"fig{salt}"
        proc = subprocess.run(
            [sys.executable, "-c", script, str(graph), str(out), str(REPO / "workflow/rules")],
            env=env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        outputs.append(
            ((tmp_path / f"fig{salt}.png").read_bytes(), (tmp_path / f"fig{salt}.pdf").read_bytes())
        )
    assert outputs[0] == outputs[1] == outputs[2]
