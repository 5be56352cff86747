"""Rule figure_length_distributions: response length (length tokens) per bucket, human vs systems.

input:   test              results/corpus/test.jsonl
         generations       list of results/seed{seed}/generations/{system}/test.jsonl (the first run seed)
output:  png               paper_figures/figure_length_distributions.png
         pdf               paper_figures/figure_length_distributions.pdf
params:  systems           system names of input.generations, same order
         min_bucket_size   config["evaluation"]["min_bucket_size"]: buckets with fewer test
                           prompts are left out
         sample_index      config["evaluation"]["sample_index"]
         cjk_font          config["figures"]["cjk_font"]
"""

from collections import Counter

from polyalign.evaluation.rows import select_generations
from polyalign.io import read_jsonl
from polyalign.report.figures import figure_length_distributions, length_table
from polyalign.report.published import system_label
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]):
    p = snakemake.params
    records = read_jsonl(snakemake.input.test)
    ids = sorted(r["id"] for r in records)
    answers = {}
    for system, path in zip(p.systems, snakemake.input.generations):
        rows = select_generations(ids, read_jsonl(path), p["sample_index"], system)
        answers[system_label(system)] = {g["id"]: g["answer"] for g in rows}
    sizes = Counter(r["bucket_id"] for r in records)
    buckets = sorted(b for b, k in sizes.items() if k >= p["min_bucket_size"])
    figure_length_distributions(
        length_table(records, answers),
        snakemake.output.png,
        snakemake.output.pdf,
        buckets=buckets,
        cjk_font=p["cjk_font"],
    )
