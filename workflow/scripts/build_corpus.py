"""Rule build_corpus: load, validate, normalize, split and dedup every configured corpus."""
from polyalign.data.build import build_corpus
from polyalign.io import write_json, write_jsonl
from polyalign.workflow_io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    records, dedup_report, build_log = build_corpus(dict(snakemake.params.corpora), snakemake.params.seed)
    write_jsonl(snakemake.output.records, records)
    write_json(snakemake.output.dedup_report, dedup_report)
    write_json(snakemake.output.build_log, build_log)
    log.info("%d records kept, %d duplicates removed", len(records), dedup_report["removed"])
