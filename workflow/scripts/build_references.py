"""Rule build_references: per-bucket human reference distributions from the TRAIN split only.

input:
    features   results/features/human_train.npz (rule features)
    records    optional: the train split of another bucket key (a variant's), whose bucket ids the
               features take (results/corpus/bucket_key/{key}/train.jsonl)
output:
    references results/references/references.json
    summary    results/references/summary.md
    table      results/references/summary.tsv
params:
    min_bucket_size
log: one file.
"""

from polyalign.features.store import load_features
from polyalign.io import read_jsonl
from polyalign.references import build_references, write_reference_summary, write_references
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    t = load_features(snakemake.input.features)
    records = getattr(snakemake.input, "records", None)
    if records:
        t = t.with_buckets(read_jsonl(records))
    v = t.valid  # empty human answers (unanswerable questions) have no features
    refs = build_references(
        t.X[v],
        list(t.bucket_ids[v]),
        list(t.languages[v]),
        t.names,
        snakemake.params.min_bucket_size,
        ids=list(t.ids[v]),
    )
    write_references(snakemake.output.references, refs)
    write_reference_summary(refs, markdown_path=snakemake.output.summary, tsv_path=snakemake.output.table)
    log.info(
        "%d buckets with a reference, %d skipped: %s",
        len(refs["buckets"]),
        len(refs["skipped"]),
        refs["skipped"],
    )
