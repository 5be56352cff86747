"""Rule figure_critic_scores: critic score distributions of human vs model responses.

input:   scores    list of JSONL files with rows {id, bucket_id, score}
                   (results/seed{seed}/critic/scores/{human,<system>}.jsonl, the first run seed)
output:  png       paper_figures/figure_critic_scores.png
         pdf       paper_figures/figure_critic_scores.pdf
params:  labels    one label per input file, same order (system names are shown as in Table 2)
         cjk_font  config["figures"]["cjk_font"]
"""

from polyalign.io import read_jsonl
from polyalign.report.figures import figure_critic_scores
from polyalign.report.published import system_label
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]):
    groups = [
        (system_label(label), read_jsonl(path))
        for label, path in zip(snakemake.params.labels, snakemake.input.scores)
    ]
    figure_critic_scores(
        groups, snakemake.output.png, snakemake.output.pdf, cjk_font=snakemake.params.cjk_font
    )
