"""Rule figure_nuf_frontier: per-bucket (utility, naturalness) points and the NUF frontier.

input:   summary   results/metrics/summary.json
output:  png       paper_figures/figure_nuf_frontier.png
         pdf       paper_figures/figure_nuf_frontier.pdf
params:  systems   optional list of systems in column order (default: all, paper order first)
         cjk_font  config["figures"]["cjk_font"]
"""

from polyalign.io import read_json
from polyalign.report.figures import figure_nuf_frontier
from polyalign.report.published import system_label
from polyalign.report.table2 import ordered_systems
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]):
    summary = read_json(snakemake.input.summary)
    systems = ordered_systems(summary, snakemake.params.get("systems"))
    hv = {
        system_label(s): {lang: h["nuf"]["point"] for lang, h in summary["headline"][s].items()}
        for s in systems
    }
    figure_nuf_frontier(
        {system_label(s): summary["per_bucket"][s] for s in systems},
        snakemake.output.png,
        snakemake.output.pdf,
        hypervolume=hv,
        cjk_font=snakemake.params.cjk_font,
    )
