"""Rule figure_bucket_inventory: train/test records per bucket, one panel per language.

input:   stats             results/corpus/bucket_stats.json
output:  png               paper_figures/figure_bucket_inventory.png
         pdf               paper_figures/figure_bucket_inventory.pdf
params:  min_bucket_size   config["min_bucket_size"] (drawn as a dashed line)
         cjk_font          config["figures"]["cjk_font"]
"""

from polyalign.io import read_json
from polyalign.report.figures import figure_bucket_inventory, inventory_counts
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]):
    figure_bucket_inventory(
        inventory_counts(read_json(snakemake.input.stats)),
        snakemake.output.png,
        snakemake.output.pdf,
        min_bucket_size=snakemake.params.min_bucket_size,
        cjk_font=snakemake.params.cjk_font,
    )
