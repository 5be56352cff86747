"""Rule table4_detectors: Table 4 (AI-text detectors and the Joint score), Markdown and LaTeX.

input:   summary  results/detectors/summary.json
         trained  results/seed{seed}/detectors/trained/report.json per run seed (params.seeds
                  order; held-out accuracy in the caption)
output:  md, tex  paper_figures/table4_detectors.{md,tex}
"""

from polyalign.io import read_json
from polyalign.report.table4 import write_table4
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]):
    write_table4(
        read_json(snakemake.input.summary),
        {str(s): read_json(p) for s, p in zip(snakemake.params.seeds, snakemake.input.trained)},
        snakemake.output.md,
        snakemake.output.tex,
    )
