"""Rule figure_bng_heatmap: per-bucket BNG as a systems x buckets heatmap.

input:   summary   results/metrics/summary.json
output:  png       paper_figures/figure_bng_heatmap.png
         pdf       paper_figures/figure_bng_heatmap.pdf
params:  systems   optional list of systems in row order (default: all, paper order first)
         cjk_font  config["figures"]["cjk_font"]
"""

from polyalign.io import read_json
from polyalign.report.figures import bucket_metric_table, figure_bng_heatmap
from polyalign.report.published import system_label
from polyalign.report.table2 import ordered_systems
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]):
    summary = read_json(snakemake.input.summary)
    systems = ordered_systems(summary, snakemake.params.get("systems"))
    table = bucket_metric_table(
        {s: summary["per_bucket"][s] for s in systems}, "bng", {s: system_label(s) for s in systems}
    )
    figure_bng_heatmap(
        table,
        snakemake.output.png,
        snakemake.output.pdf,
        title="BNG per bucket (lower = closer to human)",
        cjk_font=snakemake.params.cjk_font,
    )
