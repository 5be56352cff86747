"""Rule features: φ(y) (text + LM features) of one response set (human answers of a split, a
system's test generations or a policy's train-prompt samples).

input:
    records      records JSONL of the split (prompts, languages, buckets; human answers)
    model        scoring model: results/models/base/train_summary.json (or its directory)
    generations  optional: a system's generation JSONL; without it the human answers are used
output:
    features     .npz (polyalign.features.store): ids, names, X, valid, bucket_ids, languages, samples
    report       JSON: rows, valid rows, invalid rows (empty generations) with reasons
log: one file. threads: torch threads.
"""

from polyalign.features.compute import compute_feature_table
from polyalign.features.store import save_features
from polyalign.io import read_jsonl, write_json
from polyalign.models.runtime import load_model_for_inference
from polyalign.models.settings import model_settings
from polyalign.workflow.io import model_dir, rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    model, tokenizer = load_model_for_inference(
        model_dir(snakemake.input.model), model_settings(snakemake.params.settings["model"])
    )
    gens = read_jsonl(snakemake.input.generations) if "generations" in snakemake.input.keys() else None
    settings = snakemake.params.settings["features"]
    table, report = compute_feature_table(
        read_jsonl(snakemake.input.records),
        gens,
        model,
        tokenizer,
        snakemake.params.settings,
        settings["batch_size"],
        settings["max_ppl"],
    )
    save_features(snakemake.output.features, table)
    write_json(snakemake.output.report, report)
    log.info("%d rows (%d valid) x %d features", report["rows"], report["valid"], report["features"])
