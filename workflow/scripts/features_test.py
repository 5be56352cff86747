"""Rule features_test: the two views of one test response set that evaluation reads, in one job
(each loads the models and torch once; separately, start-up was ~90 % of the embedding job):
φ(y) (text + LM features) under the scoring model, and the MAUVE embeddings under the encoder.

input:
    records      results/corpus/test.jsonl (prompts, languages, buckets; human answers)
    model        scoring model: results/models/base/train_summary.json (or its directory)
    encoder      the encoder: the same BaseLM file (embedded default); the config's
                 embeddings.encoder names a hub id/path instead at paper scale
    generations  optional: a system's or baseline's test answers; without it the human answers
output:
    features     .npz (polyalign.features.store), as rule features writes it
    report       JSON: rows, valid rows, invalid rows (empty generations) with reasons
    embeddings   .npz with ids, E (float32; NaN rows = empty answers, left out of MAUVE)
log: one file. threads: torch threads.
"""

from polyalign.evaluation.embeddings import embed_file, save_embeddings
from polyalign.features.compute import feature_table_of_files
from polyalign.features.store import save_features
from polyalign.io import write_json
from polyalign.workflow.io import model_dir, rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    settings = snakemake.params.settings
    generations = snakemake.input.get("generations")
    table, report = feature_table_of_files(
        snakemake.input.records, generations, model_dir(snakemake.input.model), settings
    )
    save_features(snakemake.output.features, table)
    write_json(snakemake.output.report, report)
    log.info("%d rows (%d valid) x %d features", report["rows"], report["valid"], report["features"])
    emb = settings["embeddings"]
    encoder = emb.get("encoder") or str(model_dir(snakemake.input.encoder))
    ids, E = embed_file(
        snakemake.input.records,
        generations,
        encoder,
        settings["model"]["device"],
        emb["batch_size"],
        emb["max_length"],
    )
    save_embeddings(snakemake.output.embeddings, ids, E)
    log.info("encoder %s: %d rows, %d empty", encoder, len(ids), int((~(E == E).all(axis=1)).sum()))
