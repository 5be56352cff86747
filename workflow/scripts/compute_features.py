"""Rule features: φ(y) (text + LM features) of one response set of the train, val or
train-sample split (human answers of a split, or a policy's train-prompt samples); the test
split's sets are rule features_test's (features and embeddings in one job).

input:
    records      records JSONL of the split (prompts, languages, buckets; human answers)
    model        scoring model: results/models/base/train_summary.json (or its directory)
    generations  optional: a policy's train-prompt samples; without it the human answers are used
output:
    features     .npz (polyalign.features.store): ids, names, X, valid, bucket_ids, languages, samples
    report       JSON: rows, valid rows, invalid rows (empty generations) with reasons
log: one file. threads: torch threads.
"""

from polyalign.features.compute import feature_table_of_files
from polyalign.features.store import save_features
from polyalign.io import write_json
from polyalign.workflow.io import model_dir, rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    table, report = feature_table_of_files(
        snakemake.input.records,
        snakemake.input.get("generations"),
        model_dir(snakemake.input.model),
        snakemake.params.settings,
    )
    save_features(snakemake.output.features, table)
    write_json(snakemake.output.report, report)
    log.info("%d rows (%d valid) x %d features", report["rows"], report["valid"], report["features"])
