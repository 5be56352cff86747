"""Rule table3_llm_judge: Table 3 (judge composites per language and system, per judge and the
mean over judges, agreement between judges) beside the published numbers. With no judge
configured the table says so and shows only the published numbers.

input:   records (test split), scores (every judge x system scores file; empty without judges)
output:  md, tex (the table), summary (JSON of everything shown)
params:  runs (one {judge, seed, system} per scores file, same order), systems, seeds,
         bootstrap (n_resamples, seed), reason (why no judge ran, when none did)
"""

from polyalign.io import read_json, read_jsonl, write_json
from polyalign.report.published import load_published, system_label
from polyalign.report.table3 import summarize, write_table3
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    published = load_published()
    labels = {s: system_label(s) for s in p.systems}
    summary = None
    if p.runs:
        rows_by_run = {
            (r["judge"], r["seed"], r["system"]): read_jsonl(path)
            for r, path in zip(p.runs, snakemake.input.scores)
        }
        summary = summarize(
            rows_by_run,
            read_jsonl(snakemake.input.records),
            p.seeds,
            p.systems,
            n_resamples=p.bootstrap["n_resamples"],
            seed=p.bootstrap["seed"],
        )
        summary["judge_counts"] = [read_json(path) for path in snakemake.input.summaries]
    write_table3(
        summary, published, labels, None if summary else p.reason, snakemake.output.md, snakemake.output.tex
    )
    write_json(snakemake.output.summary, summary or {"ran": False, "reason": p.reason})
