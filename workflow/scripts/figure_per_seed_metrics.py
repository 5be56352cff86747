"""Rule figure_per_seed_metrics: each run seed's Table 2 values per system beside the pooled
mean and its interval.

input:   summary   results/metrics/summary.json
output:  png       paper_figures/figure_per_seed_metrics.png
         pdf       paper_figures/figure_per_seed_metrics.pdf
params:  systems   systems in display order
         cjk_font  config["figures"]["cjk_font"]
"""

from polyalign.io import read_json
from polyalign.report.seed_figure import figure_per_seed_metrics
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]):
    figure_per_seed_metrics(
        read_json(snakemake.input.summary),
        snakemake.output.png,
        snakemake.output.pdf,
        systems=snakemake.params.get("systems"),
        cjk_font=snakemake.params.get("cjk_font"),
    )
