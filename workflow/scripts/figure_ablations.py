"""Rule figure_ablations: the ablation table's differences as a figure (one panel per metric).

input:   ablations  results/metrics/ablations.json (rule table_ablations)
output:  png, pdf   paper_figures/figure_ablations.{png,pdf}
params:  labels     {system or variant: display name}; cjk_font  config["figures"]["cjk_font"]
"""

from polyalign.io import read_json
from polyalign.report.ablations import figure_ablations
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]):
    figure_ablations(
        read_json(snakemake.input.ablations)["rows"],
        dict(snakemake.params.labels),
        snakemake.output.png,
        snakemake.output.pdf,
        cjk_font=snakemake.params.get("cjk_font"),
    )
