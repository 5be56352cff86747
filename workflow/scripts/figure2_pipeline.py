"""Rule figure2_pipeline (the paper's Figure 2): the workflow's rule graph, as
`snakemake --rulegraph` prints it for this run's config, drawn with matplotlib.

input:   sources   the workflow's Snakefile and rule files (a changed rule redraws the figure)
output:  dot       results/pipeline/rulegraph.dot (the graph as Snakemake printed it, edges sorted)
         png, pdf  paper_figures/figure2_pipeline.{png,pdf}
params:  cjk_font  config["figures"]["cjk_font"]
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from polyalign.io import write_text
from polyalign.report.pipeline import canonical_rulegraph, figure_pipeline, parse_rulegraph, rule_stages
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    snakefile = Path(snakemake.input.snakefile)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(dict(snakemake.config), f)
        config_path = f.name
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(snakefile),
        "--configfile",
        config_path,
        "--rulegraph",
        "--nolock",
        "--quiet",
        "rules",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    Path(config_path).unlink()
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed:\n{proc.stderr[-3000:]}")
    dot = canonical_rulegraph(proc.stdout[proc.stdout.index("digraph") :])
    write_text(snakemake.output.dot, dot)
    graph = parse_rulegraph(dot)
    figure_pipeline(
        graph,
        rule_stages(snakefile.parent / "rules"),
        snakemake.output.png,
        snakemake.output.pdf,
        cjk_font=snakemake.params.cjk_font,
    )
    log.info("rule graph: %d rules, %d edges", graph.number_of_nodes(), graph.number_of_edges())
