"""Rule table_ablations: each variant against its parent (config `variants:`), per language,
with the pooled two-level paired interval of Table 2 (polyalign.report.ablations).

The parents' and variants' per-seed files are pooled here with the config's bootstrap block, the
one combine_metrics uses for Table 2: the prompt draws depend only on the test prompts' languages,
the resample count and the bootstrap seed, so they are Table 2's draws, and a variant identical
to its parent differs from it by exactly 0.

input:   metrics     results/metrics/seed{seed}/{system}.json, parents and variants, every seed
         resample    results/metrics/seed{seed}/{system}.resample.npz, same order
         floors      results/metrics/seed{seed}/{baseline}.json of the floor baselines, every
                     seed: their pooled points (mean over seeds) are Table 2's floors
         zero_shot, trained  per run seed (params.seeds order): the detector score files, which
                     score the variants too (the AI-rate column, report.ablation_detectors)
         val, test   results/corpus/{val,test}.jsonl (threshold calibration, test prompts)
output:  md, tex     paper_figures/table_ablations.{md,tex}
         json        results/metrics/ablations.json: one row per (variant, language, metric),
                     with the display labels (the replication report's "What does the work")
params:  variants    {variant: parent}
         labels      {system or variant: display name}
         seeds       run seeds
         bootstrap   the config's evaluation.bootstrap block
         detectors   {"detectors": the config's detectors block} (fprs, resamples)
"""

from polyalign.detectors.settings import DETECTORS, detector_config
from polyalign.evaluation.pooled import pooled_replicates
from polyalign.evaluation.replicates import load_resample_arrays
from polyalign.evaluation.scope_metrics import HEADLINE_METRICS
from polyalign.evaluation.settings import settings_from_config
from polyalign.evaluation.store import load_metrics
from polyalign.io import InputError, read_jsonl, write_json
from polyalign.report.ablation_detectors import detector_ablation_rows
from polyalign.report.ablations import ablation_rows, metric_floors, write_ablation_table
from polyalign.report.floor import pooled_points
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    boot = settings_from_config({"bootstrap": dict(p.bootstrap or {})}).bootstrap
    seeds = [int(s) for s in p.seeds]
    metrics, arrays = {}, {}
    for m_path, r_path in zip(snakemake.input.metrics, snakemake.input.resample, strict=True):
        m = load_metrics(m_path)
        meta, a = load_resample_arrays(r_path)
        if (meta["system"], meta["seed"]) != (m["system"], m["seed"]):
            raise InputError(f"{r_path} and {m_path} belong to different runs")
        metrics.setdefault(m["system"], {})[int(m["seed"])] = m
        arrays.setdefault(m["system"], {})[int(m["seed"])] = a
    systems = list(metrics)
    reps = pooled_replicates(
        {s: {seed: arrays[s][seed] for seed in seeds} for s in systems}, boot.n_resamples, boot.seed
    )
    points = {
        s: {
            scope: {k: [metrics[s][seed]["headline"][scope][k] for seed in seeds] for k in HEADLINE_METRICS}
            for scope in metrics[s][seeds[0]]["headline"]
        }
        for s in systems
    }
    languages = sorted(metrics[systems[0]][seeds[0]]["languages"])
    baselines = {}
    for path in snakemake.input.floors:
        m = load_metrics(path)
        baselines.setdefault(m["system"], []).append(m)
    floors = metric_floors(pooled_points(baselines), languages, HEADLINE_METRICS)
    rows = ablation_rows(reps, points, dict(p.variants), languages, boot.alpha, floors=floors)
    cfg = detector_config(dict(p.detectors))
    rows_by_seed = {
        str(seed): read_jsonl(zero_shot) + read_jsonl(trained)
        for seed, zero_shot, trained in zip(
            seeds, snakemake.input.zero_shot, snakemake.input.trained, strict=True
        )
    }
    rows += detector_ablation_rows(
        rows_by_seed,
        [(r["id"], r["language"]) for r in read_jsonl(snakemake.input.test)],
        [(r["id"], r["language"]) for r in read_jsonl(snakemake.input.val)],
        dict(p.variants),
        list(DETECTORS),
        fprs=cfg["fprs"],
        n_resamples=int(cfg["n_resamples"]),
        seed=boot.seed,
        alpha=boot.alpha,
    )
    write_json(
        snakemake.output.json,
        {"alpha": boot.alpha, "seeds": p.seeds, "labels": dict(p.labels), "rows": rows},
    )
    write_ablation_table(rows, dict(p.labels), snakemake.output.md, snakemake.output.tex)
    log.info("%d variants x %d languages", len(p.variants), len(languages))
