"""Rule detector_summary: calibrated thresholds, rates, AUROC, TPR at FPR and Joint for every
system x detector x language, per run seed and pooled over seeds with Table 2's paired two-level
bootstrap (polyalign.detectors.summary), and the replicates of the primary AI rate that the
replication report reads for claim 5.

input:   zero_shot, trained  per run seed (params.seeds order): the score JSONL files
         zero_shot_summary   per run seed: the zero-shot summaries (model pairs)
         metrics  results/metrics/seed{seed}/{system}.json of every seed and system: each
                  seed's Aggregate per scope (the point the pooled summary keeps per seed)
         val, test  results/corpus/{val,test}.jsonl
         generations  every (seed, system) test generation file, seed-major (SEEDS x SYSTEMS): the
                    answers' language for the zh rates split by the answer's language
output:  summary     JSON (pooled intervals, each seed's own under "seeds")
         replicates  npz, evaluation.pooled.save_replicates layout, metric = detector
params:  seeds; systems; bootstrap (the config's evaluation.bootstrap: seed and alpha of Table 2's
         draws); white_box (bool: the detectors' models are this run's own);
         ancestor_models (the detector models that are compared systems' own or their ancestors)
log: one file.
"""

from polyalign.detectors.language_split import rates_by_answer_language
from polyalign.detectors.settings import DETECTORS, detector_config
from polyalign.detectors.summary import detector_summary
from polyalign.evaluation.pooled import save_replicates
from polyalign.evaluation.settings import settings_from_config
from polyalign.evaluation.store import load_metrics
from polyalign.io import InputError, read_json, read_jsonl, write_json
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    cfg = detector_config(snakemake.params.settings)
    seeds = [str(s) for s in snakemake.params.seeds]
    rows_by_seed = {
        seed: read_jsonl(zero_shot) + read_jsonl(trained)
        for seed, zero_shot, trained in zip(seeds, snakemake.input.zero_shot, snakemake.input.trained)
    }
    systems = list(snakemake.params.systems)
    # each seed's Joint uses that seed's Aggregate (None where a system has no answers: NaN)
    aggregates = {seed: {} for seed in seeds}
    for path in snakemake.input.metrics:
        m = load_metrics(path)
        aggregates[str(m["seed"])][m["system"]] = {
            scope: float("nan") if v["aggregate"] is None else v["aggregate"]
            for scope, v in m["headline"].items()
        }
    test = [(r["id"], r["language"]) for r in read_jsonl(snakemake.input.test)]
    val = [(r["id"], r["language"]) for r in read_jsonl(snakemake.input.val)]
    boot = settings_from_config({"bootstrap": dict(snakemake.params.bootstrap or {})}).bootstrap
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
        seed=boot.seed,
        alpha=boot.alpha,
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
