"""Rule table2_per_seed: the Table 2 columns for every run seed on its own (Markdown + LaTeX).

input:   summary   results/metrics/summary.json
output:  md        paper_figures/table2_per_seed.md
         tex       paper_figures/table2_per_seed.tex
params:  systems   systems in row order
"""

from polyalign.io import read_json
from polyalign.report.table2 import write_table2_per_seed
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]):
    write_table2_per_seed(
        read_json(snakemake.input.summary),
        snakemake.output.md,
        snakemake.output.tex,
        snakemake.params.get("systems"),
    )
