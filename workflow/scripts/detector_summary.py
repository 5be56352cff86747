"""Rule detector_summary: calibrated thresholds, rates, AUROC, TPR at FPR and Joint for every
system x detector x language, per run seed and pooled over seeds with Table 2's paired two-level
bootstrap (polyalign.detectors.summary), and the replicates of the primary AI rate that the
replication report reads for claim 5.

input:   zero_shot, trained  per run seed (params.seeds order): the score JSONL files
         zero_shot_summary   per run seed: the zero-shot summaries (model pairs)
         metrics  results/metrics/summary.json (each seed's Aggregate per system and scope)
         val, test  results/corpus/{val,test}.jsonl
         generations  every (seed, system) test generation file, seed-major (SEEDS x SYSTEMS): the
                    answers' language for the zh rates split by the answer's language
output:  summary     JSON (pooled intervals, each seed's own under "seeds")
         replicates  npz, evaluation.pooled.save_replicates layout, metric = detector
params:  seeds; systems; white_box (bool: the detectors' models are this run's own);
         ancestor_models (the detector models that are compared systems' own or their ancestors)
log: one file.
"""

from polyalign.detectors.language_split import rates_by_answer_language
from polyalign.detectors.settings import DETECTORS, detector_config
from polyalign.detectors.summary import detector_summary
from polyalign.evaluation.pooled import save_replicates
from polyalign.io import InputError, read_json, read_jsonl, write_json
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    cfg = detector_config(snakemake.params.settings)
    seeds = [str(s) for s in snakemake.params.seeds]
    rows_by_seed = {
        seed: read_jsonl(zero_shot) + read_jsonl(trained)
        for seed, zero_shot, trained in zip(seeds, snakemake.input.zero_shot, snakemake.input.trained)
    }
    metrics = read_json(snakemake.input.metrics)
    systems = list(snakemake.params.systems)
    # each seed's Joint uses that seed's Aggregate (the pooled summary keeps every seed's point)
    aggregates = {
        seed: {
            s: {scope: v["aggregate"]["seeds"][seed]["point"] for scope, v in metrics["headline"][s].items()}
            for s in systems
            if s in metrics["headline"]
        }
        for seed in seeds
    }
    test = [(r["id"], r["language"]) for r in read_jsonl(snakemake.input.test)]
    val = [(r["id"], r["language"]) for r in read_jsonl(snakemake.input.val)]
    boot = metrics["bootstrap"]  # the pooled summary's bootstrap settings (seed, alpha)
    out, replicates = detector_summary(
        rows_by_seed,
        test,
        val,
        systems,
        list(DETECTORS),
        aggregates,
        fprs=cfg["fprs"],
        tpr_fprs=cfg["tpr_fprs"],
        n_resamples=int(cfg["n_resamples"]),
        seed=int(boot["seed"]),
        alpha=float(boot["alpha"]),
    )
    flags = out.pop("flags")
    paths = iter(snakemake.input.generations)
    answers = {
        seed: {system: {g["id"]: g["answer"] for g in read_jsonl(next(paths))} for system in systems}
        for seed in seeds
    }
    if "zh" in {lg for _, lg in test}:
        out["zh_by_answer_language"] = rates_by_answer_language(flags, answers, test, "zh")
    excluded = out["excluded_prompts"]
    log.info("prompts left out (%s): val %s, test %s", excluded["reason"], excluded["val"], excluded["test"])
    out["white_box"] = bool(snakemake.params.white_box)
    out["ancestor_models"] = list(snakemake.params.ancestor_models)
    pairs = [read_json(p)["pairs"] for p in snakemake.input.zero_shot_summary]
    if any(p != pairs[0] for p in pairs):
        raise InputError(f"detector model pairs differ between run seeds: {pairs}")
    out["model_pairs"] = pairs[0]
    write_json(snakemake.output.summary, out)
    save_replicates(snakemake.output.replicates, replicates)
    key = f"ai_rate@{100 * cfg['fprs'][0]:g}%"
    for d in DETECTORS:
        log.info(
            "%s: pooled %s %s",
            d,
            key,
            {s: round(out["metrics"][d][s]["overall"][key]["point"], 3) for s in ["human", *systems]},
        )
