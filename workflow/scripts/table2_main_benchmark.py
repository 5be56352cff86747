"""Rule table2_main_benchmark: Table 2 per language, with bootstrap intervals (Markdown + LaTeX).

input:   summary   results/metrics/summary.json
output:  md        paper_figures/table2_main_benchmark.md
         tex       paper_figures/table2_main_benchmark.tex
params:  systems   optional list of systems in row order (default: all, paper order first)
"""

from polyalign.io import read_json
from polyalign.report.table2 import write_table2
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]):
    write_table2(
        read_json(snakemake.input.summary),
        snakemake.output.md,
        snakemake.output.tex,
        snakemake.params.get("systems"),
    )
