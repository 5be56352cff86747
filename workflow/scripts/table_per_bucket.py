"""Rule table_per_bucket: buckets x systems of BNG and QA-F1 per language (Markdown + LaTeX).

input:   summary   results/metrics/summary.json
output:  md        paper_figures/table_per_bucket.md
         tex       paper_figures/table_per_bucket.tex
params:  systems   optional list of systems in column order (default: all, paper order first)
"""

from polyalign.io import read_json
from polyalign.report.bucket_table import write_bucket_table
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]):
    write_bucket_table(
        read_json(snakemake.input.summary),
        snakemake.output.md,
        snakemake.output.tex,
        snakemake.params.get("systems"),
    )
