"""Rule combine_metrics: every seed's metrics of every system -> results/metrics/summary.json
and a long TSV.

Interim pooling of the run seeds (polyalign.evaluation.seed_mean): each number is the mean over
seeds; the headline intervals come from the seed-mean bootstrap replicates (prompts resampled,
seeds fixed); per-bucket and per-corpus intervals are left out.

input:   metrics     list of results/metrics/seed{seed}/{system}.json, every seed and system
         bootstraps  list of results/metrics/seed{seed}/{system}.bootstrap.json, same order
output:  summary     results/metrics/summary.json
         tsv         results/metrics/all_systems.tsv
         headline    results/metrics/headline.json: {system: {scope: {metric: {point, low, high}}}},
                     small enough for `dvc metrics show`
params:  systems     the systems in display order
"""
from polyalign.evaluation import combine_metrics, load_bootstrap, load_metrics, summary_tsv
from polyalign.evaluation.seed_mean import headline_intervals, mean_bootstrap, mean_over_seeds
from polyalign.io import write_json, write_text
from polyalign.workflow_io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    per_seed, boots = {}, {}
    for metrics_path, boot_path in zip(snakemake.input.metrics, snakemake.input.bootstraps, strict=True):
        m, b = load_metrics(metrics_path), load_bootstrap(boot_path)
        per_seed.setdefault(m["system"], []).append(m)
        boots.setdefault(b["system"], []).append(b)
    metrics = {s: headline_intervals(mean_over_seeds(per_seed[s]), mean_bootstrap(boots[s]))
               for s in snakemake.params.systems}
    summary = combine_metrics(metrics)
    summary["seeds"] = len(per_seed[snakemake.params.systems[0]])
    write_json(snakemake.output.summary, summary)
    write_text(snakemake.output.tsv, summary_tsv(summary))
    write_json(snakemake.output.headline, {
        system: {scope: {metric: {k: ci.get(k) for k in ("point", "low", "high")} for metric, ci in by_metric.items()}
                 for scope, by_metric in scopes.items()}
        for system, scopes in summary["headline"].items()
    })
    log.info("combined %d systems over %d seeds: %s", len(metrics), summary["seeds"], ", ".join(metrics))
