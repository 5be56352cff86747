"""Rule table_ablations: each variant against its parent (config `variants:`), per language,
on the paired draws of Table 2 (polyalign.report.ablations).

input:   summary     results/metrics/summary.json (the parents' per-seed points)
         replicates  results/metrics/bootstrap_replicates.npz (Table 2's replicates and seed draws)
         metrics     results/metrics/seed{seed}/{variant}.json, for every variant and seed
         resample    results/metrics/seed{seed}/{variant}.resample.npz, same order
output:  md, tex     paper_figures/table_ablations.{md,tex}
         json        results/metrics/ablations.json: one row per (variant, language, metric)
params:  variants    {variant: parent}
         labels      {system or variant: display name}
         seeds       run seeds
         bootstrap   the config's evaluation.bootstrap block (the one Table 2 used)
"""

from polyalign.evaluation import (
    HEADLINE_METRICS,
    load_metrics,
    load_replicates,
    load_resample_arrays,
    pooled_replicates,
    settings_from_config,
)
from polyalign.io import InputError, read_json, write_json
from polyalign.report.ablations import ablation_rows, merge_replicates, write_ablation_table
from polyalign.workflow_io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    boot = settings_from_config({"bootstrap": dict(p.bootstrap or {})}).bootstrap
    seeds = [int(s) for s in p.seeds]
    summary = read_json(snakemake.input.summary)
    arrays, points = {}, {}
    for m_path, r_path in zip(snakemake.input.metrics, snakemake.input.resample, strict=True):
        m = load_metrics(m_path)
        meta, a = load_resample_arrays(r_path)
        if (meta["system"], meta["seed"]) != (m["system"], m["seed"]):
            raise InputError(f"{r_path} and {m_path} belong to different runs")
        arrays.setdefault(m["system"], {})[int(m["seed"])] = a
        for scope, values in m["headline"].items():
            for k in HEADLINE_METRICS:
                points.setdefault(m["system"], {}).setdefault(scope, {}).setdefault(k, {})[int(m["seed"])] = (
                    values[k]
                )
    points = {
        s: {
            scope: {k: [by_seed[seed] for seed in seeds] for k, by_seed in ms.items()}
            for scope, ms in sc.items()
        }
        for s, sc in points.items()
    }
    for parent in set(p.variants.values()):
        points[parent] = {
            scope: {k: [ci[k]["seeds"][str(seed)]["point"] for seed in seeds] for k in HEADLINE_METRICS}
            for scope, ci in summary["headline"][parent].items()
        }
    variant_reps = pooled_replicates(
        {v: {seed: arrays[v][seed] for seed in seeds} for v in p.variants}, boot.n_resamples, boot.seed
    )
    reps = merge_replicates(load_replicates(snakemake.input.replicates), variant_reps)
    rows = ablation_rows(reps, points, dict(p.variants), sorted(summary["languages"]), boot.alpha)
    write_json(snakemake.output.json, {"alpha": boot.alpha, "seeds": p.seeds, "rows": rows})
    write_ablation_table(rows, dict(p.labels), snakemake.output.md, snakemake.output.tex)
    log.info("%d variants x %d languages", len(p.variants), len(summary["languages"]))
