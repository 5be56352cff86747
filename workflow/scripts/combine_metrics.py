"""Rule combine_metrics: all systems' metrics -> results/metrics/summary.json and a long TSV.

input:   metrics   list of results/metrics/{system}.json, in display order (e.g. expand(...))
output:  summary   results/metrics/summary.json
         tsv       results/metrics/all_systems.tsv
         headline  results/metrics/headline.json: {system: {scope: {metric: {point, low, high}}}},
                   small enough for `dvc metrics show`
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
    write_json(snakemake.output.headline, {
        system: {scope: {metric: {k: ci.get(k) for k in ("point", "low", "high")} for metric, ci in by_metric.items()}
                 for scope, by_metric in scopes.items()}
        for system, scopes in summary["headline"].items()
    })
    log.info("combined %d systems: %s", len(metrics), ", ".join(metrics))
