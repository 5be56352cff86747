"""The pipeline figure (the paper's Figure 2) drawn from the workflow's own rule graph.

`snakemake --rulegraph` prints the rule DAG as Graphviz DOT; it is parsed here (two line shapes:
`N[label = "rule", ...];` and `A -> B`) and laid out in layers with networkx, then drawn with
matplotlib, so that no Graphviz binary is needed and the figure cannot drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import networkx as nx
import seaborn as sns

from .figures import _style, font_chain, save_figure

_NODE = re.compile(r'^\s*(\d+)\s*\[\s*label\s*=\s*"([^"]+)"')
_EDGE = re.compile(r"^\s*(\d+)\s*->\s*(\d+)")
_RULE = re.compile(r"^rule\s+(\w+)\s*:", re.MULTILINE)
HIDDEN_RULES = frozenset({"all"})


class RuleGraphError(ValueError):
    pass


def canonical_rulegraph(dot: str) -> str:
    """`dot` with its edge lines sorted by (source, target) number. Snakemake numbers the rules
    reproducibly but prints the edges in an order that changes from one call to the next."""
    lines = dot.splitlines()
    edge_at = [i for i, line in enumerate(lines) if _EDGE.match(line)]
    edges = sorted((lines[i] for i in edge_at), key=lambda line: tuple(map(int, _EDGE.match(line).groups())))
    for i, line in zip(edge_at, edges):
        lines[i] = line
    return "\n".join(lines) + ("\n" if dot.endswith("\n") else "")


def parse_rulegraph(dot: str) -> nx.DiGraph:
    """The rule graph of `snakemake --rulegraph` output: nodes are rule names, an edge a -> b
    means rule b consumes an output of rule a. Edges are added in (source, target) number
    order, so the graph does not depend on the order Snakemake printed them in."""
    labels, edges = {}, []
    for line in dot.splitlines():
        if node := _NODE.match(line):
            labels[node.group(1)] = node.group(2)
        elif edge := _EDGE.match(line):
            edges.append((int(edge.group(1)), int(edge.group(2))))
    if not labels:
        raise RuleGraphError("no rule found in the rule graph (is it `snakemake --rulegraph` output?)")
    graph = nx.DiGraph()
    graph.add_nodes_from(labels.values())
    for a, b in sorted(edges):
        if str(a) not in labels or str(b) not in labels:
            raise RuleGraphError(f"edge {a} -> {b} names an undeclared node")
        graph.add_edge(labels[str(a)], labels[str(b)])
    return graph


def rule_stages(rules_dir: str | Path) -> dict[str, str]:
    """{rule: stage}, the stage being the rule file that defines it (data, models, ...)."""
    stages = {}
    for path in sorted(Path(rules_dir).glob("*.smk")):
        for name in _RULE.findall(path.read_text(encoding="utf-8")):
            stages[name] = path.stem
    return stages


def layered_positions(graph: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Top-to-bottom layers (longest path from a source); inside a layer, rules ordered by the
    mean position of their inputs (one barycentre sweep), then by name, so the layout is stable."""
    layer = {}
    for node in nx.topological_sort(graph):
        layer[node] = max((layer[p] + 1 for p in graph.predecessors(node)), default=0)
    rows: dict[int, list[str]] = {}
    for node, k in layer.items():
        rows.setdefault(k, []).append(node)
    x = {}
    positions = {}
    for k in sorted(rows):

        def key(node):
            parents = [x[p] for p in graph.predecessors(node)]
            return (sum(parents) / len(parents) if parents else 0.0, node)

        ordered = sorted(rows[k], key=key)
        width = len(ordered)
        for i, node in enumerate(ordered):
            x[node] = i - (width - 1) / 2
            positions[node] = (x[node], -float(k))
    return positions


def acyclic_backbone(graph: nx.DiGraph) -> tuple[nx.DiGraph, list[tuple[str, str]]]:
    """The rule graph has cycles where one wildcard rule serves several stages (`features` of
    human answers feeds the critic; `features` of system outputs comes after DPO/HDPO). Remove,
    one cycle at a time, the edge that closes it (deterministic: edges in parse_rulegraph's order)
    and return the acyclic backbone with the removed edges, which are drawn dashed."""
    backbone, removed = graph.copy(), []
    while not nx.is_directed_acyclic_graph(backbone):
        closing = nx.find_cycle(backbone)[-1][:2]
        backbone.remove_edge(*closing)
        removed.append(closing)
    return backbone, removed


def stage_colors(stage_names: list[str]) -> dict[str, tuple]:
    """One light colour per stage, all distinct: Set3 has 12 (pastel only 10, so an 11th stage
    would repeat the first), evenly spaced hues beyond that."""
    palette = "Set3" if len(stage_names) <= 12 else "husl"
    return dict(zip(stage_names, sns.color_palette(palette, len(stage_names))))


def figure_pipeline(
    graph: nx.DiGraph, stages: Mapping[str, str], png_path, pdf_path, *, cjk_font: str | None = None
) -> None:
    """Boxes (rules, coloured by stage) and arrows (data flow) of the rule graph, without the
    aggregate target `all`. Only direct dependencies are drawn: an edge implied by a longer path
    (transitive reduction) is left out, else the rules read by almost every later stage
    (assign_buckets, pretrain_base) would cover the figure with arrows."""
    backbone, back_edges = acyclic_backbone(graph.subgraph(n for n in graph if n not in HIDDEN_RULES))
    graph = nx.transitive_reduction(backbone)
    pos = layered_positions(graph)
    stage_names = sorted({stages.get(n, "other") for n in graph})
    colors = stage_colors(stage_names)
    n_layers = 1 + int(-min(y for _, y in pos.values()))
    widest = max(sum(1 for _, y in pos.values() if y == -k) for k in range(n_layers))
    chain = font_chain(cjk_font)
    with plt.rc_context(_style(chain)):
        fig, ax = plt.subplots(figsize=(max(8.0, 1.9 * widest), 0.75 * n_layers + 1.2), layout="constrained")
        # solid: direct dependencies; dashed: data flowing back into a wildcard rule that also
        # serves an earlier stage
        # sorted: transitive_reduction's edge order follows Python's per-process string hashing,
        # and the drawing order shows where arrows overlap (and in the PDF's bytes)
        edges = [(e, {}) for e in sorted(graph.edges)] + [(e, {"ls": "--"}) for e in sorted(back_edges)]
        for (a, b), style in edges:
            bend = 0.3 if style else 0.05
            arrow = {"arrowstyle": "-|>", "color": "0.55", "lw": 0.8, "shrinkA": 9, "shrinkB": 9}
            ax.annotate(
                "",
                xy=pos[b],
                xytext=pos[a],
                arrowprops={**arrow, **style, "connectionstyle": f"arc3,rad={bend}"},
            )
        for node, (x, y) in pos.items():
            ax.text(
                x,
                y,
                node,
                ha="center",
                va="center",
                fontsize=6.5,
                zorder=3,
                bbox={
                    "boxstyle": "round,pad=0.3",
                    "facecolor": colors[stages.get(node, "other")],
                    "edgecolor": "0.3",
                    "linewidth": 0.6,
                },
            )
        handles = [plt.Rectangle((0, 0), 1, 1, facecolor=colors[s], edgecolor="0.3") for s in stage_names]
        ax.legend(
            handles,
            [f"{s} ({s}.smk)" if s != "other" else s for s in stage_names],
            title="stage",
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            fontsize=7,
        )
        xs = [x for x, _ in pos.values()]
        ax.set(xlim=(min(xs) - 0.9, max(xs) + 0.9), ylim=(-(n_layers - 1) - 0.6, 0.6), xticks=[], yticks=[])
        ax.set_title("Pipeline: the rules of the workflow (snakemake --rulegraph); arrow = direct data flow")
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.grid(False)
        save_figure(fig, png_path, pdf_path, chain)
