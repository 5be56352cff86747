"""Rule combine_metrics: all systems' metrics -> results/metrics/summary.json and a long TSV.

input:   metrics   list of results/metrics/{system}.json, in display order (e.g. expand(...))
output:  summary   results/metrics/summary.json
         tsv       results/metrics/all_systems.tsv
"""
from polyalign.evaluation import combine_metrics, load_metrics, summary_tsv
from polyalign.io import write_json, write_text
from polyalign.workflow_io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    metrics = {}
    for path in snakemake.input.metrics:
        m = load_metrics(path)
        metrics[m["system"]] = m
    summary = combine_metrics(metrics)
    write_json(snakemake.output.summary, summary)
    write_text(snakemake.output.tsv, summary_tsv(summary))
    log.info("combined %d systems: %s", len(metrics), ", ".join(metrics))
