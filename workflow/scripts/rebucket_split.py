"""Rule rebucket_split: the train split with the bucket ids of another bucket key (an ablation
variant's, polyalign.workflow.variants), and the bucket statistics of every split under that key.
The records, their splits and length bins are the run's (rule assign_buckets); only bucket_id
changes.

input:
    train, val, test  the run's splits (results/corpus/{split}.jsonl)
output:
    train    results/corpus/bucket_key/{key}/train.jsonl
    stats    results/corpus/bucket_key/{key}/bucket_stats.json
params:
    bucket_key, min_bucket_size
log: one file.
"""

from polyalign.buckets import bucket_statistics, rebucket
from polyalign.io import read_jsonl, write_json, write_jsonl
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    key = list(snakemake.params.bucket_key)
    by_split = {s: rebucket(read_jsonl(snakemake.input[s]), key) for s in ("train", "val", "test")}
    stats = bucket_statistics(by_split, snakemake.params.min_bucket_size)
    write_jsonl(snakemake.output.train, by_split["train"])
    write_json(snakemake.output.stats, stats)
    log.info(
        "bucket key %s: %d buckets, %d under min_bucket_size=%d",
        key,
        stats["n_buckets"],
        len(stats["small_buckets"]),
        snakemake.params.min_bucket_size,
    )
