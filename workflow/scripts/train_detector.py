"""Rule train_detector: the trained human-vs-model detector, from the train split only.

input:
    train        results/corpus/train.jsonl (the ids it may train on)
    human        results/features/human_train.npz (label 0)
    samples      results/features/{system}_train_samples.npz of the supervised systems (label 1)
output:
    model        JSON: feature names, standardisation, logistic-regression coefficients
    report       JSON: fit and held-out accuracy / balanced accuracy / AUROC (per language too),
                 the ids it was fitted on
params:
    sample_systems  the system of each input.samples entry
    seed            config seed (the held-out split of the train prompts)
log: one file.
"""

from polyalign.detectors.settings import detector_config
from polyalign.detectors.trained import train_detector
from polyalign.features.store import load_features
from polyalign.io import read_jsonl, write_json
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    cfg = detector_config(snakemake.params.settings)
    train_ids = [r["id"] for r in read_jsonl(snakemake.input.train)]
    samples = {s: load_features(p) for s, p in zip(snakemake.params.sample_systems, snakemake.input.samples)}
    model, report = train_detector(
        load_features(snakemake.input.human), samples, train_ids, int(snakemake.params.seed), cfg["trained"]
    )
    report["inputs"] = [str(p) for p in snakemake.input]
    write_json(snakemake.output.model, model)
    write_json(snakemake.output.report, report)
    h = report["held_out"]
    log.info(
        "trained detector: held-out accuracy %.3f, balanced %.3f, AUROC %.3f (n=%d)",
        h["accuracy"],
        h["balanced_accuracy"],
        h["auroc"],
        h["n"],
    )
