"""Rule baseline_answers: one trivial baseline's answers to the test prompts, written as a
system's test generations (polyalign.baselines).

input:   test         results/corpus/test.jsonl
         train        results/corpus/train.jsonl
output:  generations  results/[seed{seed}/]generations/{baseline}/test.jsonl
         report       its summary: the rule, the chosen constant answers or the donor fallbacks
params:  baseline     the baseline's name
         seed         the run seed of a drawn baseline (None: the constant answer)
         zh_tokenization  the evaluation's Chinese tokenisation (the constant answer's QA-F1)
"""

from polyalign.evaluation.baseline_answers import baseline_generations
from polyalign.io import read_jsonl, write_json, write_jsonl
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    rows, report = baseline_generations(
        p.baseline,
        read_jsonl(snakemake.input.test),
        read_jsonl(snakemake.input.train),
        p.seed,
        p.zh_tokenization,
    )
    write_jsonl(snakemake.output.generations, rows)
    write_json(snakemake.output.report, report)
    log.info("%s: %d answers; %s", p.baseline, len(rows), {k: v for k, v in report.items() if k != "rule"})
