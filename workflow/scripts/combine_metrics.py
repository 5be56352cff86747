"""Rule combine_metrics: every run seed's metrics of every system -> the pooled results.

Point estimate = mean over seeds; interval = the two-level t interval (seed component plus the
prompt bootstrap, paired across systems; polyalign.evaluation.pooled; BNG and BNG-robust with
their bias bracketed, polyalign.evaluation.w1_bias), each seed's own prompt-only interval beside it.

input:   metrics     results/metrics/seed{seed}/{system}.json, for every seed and system
         resample    results/metrics/seed{seed}/{system}.resample.npz, same order
output:  summary     results/metrics/summary.json
         tsv         results/metrics/all_systems.tsv
         headline    results/metrics/headline.json: {system: {scope: {metric: {point, low, high}}}},
                     small enough for `dvc metrics show`
         replicates  results/metrics/bootstrap_replicates.npz (per-seed replicates, the BNG
                     bias bounds and prompt counts per scope; the replication report pairs
                     systems from them)
params:  systems     systems in display order
         seeds       run seeds
         bootstrap   the config's evaluation.bootstrap block
"""

import time

from polyalign.evaluation.pooled import headline_intervals, pooled_replicates, save_replicates
from polyalign.evaluation.replicates import load_resample_arrays
from polyalign.evaluation.scope_metrics import HEADLINE_METRICS
from polyalign.evaluation.settings import settings_from_config
from polyalign.evaluation.store import compact_headline, load_metrics, pooled_summary, summary_tsv
from polyalign.io import InputError, write_json, write_text
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    boot = settings_from_config({"bootstrap": dict(p.bootstrap or {})}).bootstrap
    metrics, arrays = {}, {}
    for m_path, r_path in zip(snakemake.input.metrics, snakemake.input.resample, strict=True):
        m = load_metrics(m_path)
        meta, a = load_resample_arrays(r_path)
        if (meta["system"], meta["seed"]) != (m["system"], m["seed"]):
            raise InputError(
                f"{r_path} belongs to {meta['system']} seed {meta['seed']}, "
                f"{m_path} to {m['system']} seed {m['seed']}"
            )
        metrics.setdefault(m["system"], {})[m["seed"]] = m
        arrays.setdefault(m["system"], {})[m["seed"]] = a
    seeds = [int(s) for s in p.seeds]
    order = {s: {seed: metrics[s][seed] for seed in seeds} for s in p.systems}
    t0 = time.time()
    reps = pooled_replicates(
        {s: {seed: arrays[s][seed] for seed in seeds} for s in p.systems}, boot.n_resamples, boot.seed
    )
    points = {
        s: {
            scope: {k: [order[s][seed]["headline"][scope][k] for seed in seeds] for k in HEADLINE_METRICS}
            for scope in order[s][seeds[0]]["headline"]
        }
        for s in p.systems
    }
    headline = headline_intervals(points, reps, boot.alpha)
    log.info(
        "pooled bootstrap: %d systems x %d seeds, %d resamples in %.1f s",
        len(p.systems),
        len(seeds),
        boot.n_resamples,
        time.time() - t0,
    )
    summary = pooled_summary(
        order,
        headline,
        {
            "method": (
                "two-level t interval: seed component (spread of the per-seed values) plus "
                "prompt bootstrap (within language), share-weighted df, paired across systems; "
                "BNG and BNG-robust keep the plug-in point and bracket its bias (evaluation.w1_bias)"
            ),
            "n_resamples": boot.n_resamples,
            "seed": boot.seed,
            "alpha": boot.alpha,
        },
    )
    write_json(snakemake.output.summary, summary)
    write_text(snakemake.output.tsv, summary_tsv(summary, HEADLINE_METRICS))
    write_json(snakemake.output.headline, compact_headline(summary))
    save_replicates(snakemake.output.replicates, reps)
