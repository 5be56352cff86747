"""Rule assign_buckets: length bins, bucket ids, per-split files and bucket statistics."""

from polyalign.buckets import assign_buckets, bucket_statistics
from polyalign.data.subsample import subsample
from polyalign.io import read_jsonl, write_json, write_jsonl
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    records = assign_buckets(
        read_jsonl(snakemake.input.records), list(p.length_thresholds), list(p.bucket_key)
    )
    sub = p.subsample
    by_split = {
        s: subsample([r for r in records if r["split"] == s], sub["fraction"], sub["min_per_stratum"], p.seed)
        for s in ("train", "val", "test")
    }
    if sub["fraction"] < 1:
        log.info(
            "subsample (fraction %s, at least %d per corpus and bucket): %s of %d records kept",
            sub["fraction"],
            sub["min_per_stratum"],
            {s: len(v) for s, v in by_split.items()},
            len(records),
        )
    stats = bucket_statistics(by_split, p.min_bucket_size)
    for split, recs in by_split.items():
        write_jsonl(snakemake.output[split], recs)
    write_json(snakemake.output.stats, stats)
    log.info(
        "%d buckets, %d under min_bucket_size=%d: %s",
        stats["n_buckets"],
        len(stats["small_buckets"]),
        p.min_bucket_size,
        stats["small_buckets"],
    )
