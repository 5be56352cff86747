"""Rule detector_summary: calibrated thresholds, rates, AUROC, TPR at FPR and Joint with paired
intervals for every system x detector x language (polyalign.detectors.summary), and the flags at
the primary FPR that the replication report reads for claim 5.

input:   scores   the zero-shot and trained score JSONL files
         metrics  results/metrics/summary.json (Aggregate per system and scope)
         val, test  results/corpus/{val,test}.jsonl
         zero_shot_summary  results/detectors/zero_shot_summary.json (the model pairs)
output:  summary  JSON; flags JSONL {id, system, detector, flagged}
params:  systems; white_box (bool: the detectors' models are this run's own)
log: one file.
"""

from polyalign.detectors.scoring import DETECTORS, detector_config
from polyalign.detectors.summary import detector_summary
from polyalign.io import read_json, read_jsonl, write_json, write_jsonl
from polyalign.workflow_io import rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    cfg = detector_config(snakemake.params.settings)
    rows = [r for p in snakemake.input.scores for r in read_jsonl(p)]
    metrics = read_json(snakemake.input.metrics)
    systems = list(snakemake.params.systems)
    aggregates = {
        s: {scope: v["aggregate"]["point"] for scope, v in metrics["headline"][s].items()}
        for s in systems
        if s in metrics["headline"]
    }
    test = [(r["id"], r["language"]) for r in read_jsonl(snakemake.input.test)]
    val = [(r["id"], r["language"]) for r in read_jsonl(snakemake.input.val)]
    boot = metrics["bootstrap"]  # the pooled summary's bootstrap settings (seed, alpha)
    out = detector_summary(
        rows,
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
    out["white_box"] = bool(snakemake.params.white_box)
    out["model_pairs"] = read_json(snakemake.input.zero_shot_summary)["pairs"]
    write_json(snakemake.output.summary, out)
    write_jsonl(
        snakemake.output.flags,
        [
            {"id": i, "system": s, "detector": d, "flagged": bool(f)}
            for d, per in flags.items()
            for s, fl in per.items()
            for i, f in fl.items()
        ],
    )
    for d in DETECTORS:
        log.info(
            "%s: %s",
            d,
            {
                s: round(out["metrics"][d][s]["overall"][f"ai_rate@{100 * cfg['fprs'][0]:g}%"]["point"], 3)
                for s in ["human", *systems]
            },
        )
