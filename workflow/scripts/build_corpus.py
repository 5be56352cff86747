"""Rule build_corpus: load, validate, normalize, split and dedup every configured corpus.

params: corpora, seed, max_drop_rate (config corpus_build.max_drop_rate; null = any bad row fails),
        max_field_chars (config corpus_build.max_field_chars: a longer text field is a bad row)
output: records, dedup_report, build_log, drop_report (rows dropped per corpus and reason)
"""

from polyalign.data.build import build_corpus, drop_report
from polyalign.io import write_json, write_jsonl
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    records, dedup_report, build_log = build_corpus(
        dict(snakemake.params.corpora),
        snakemake.params.seed,
        snakemake.params.max_drop_rate,
        snakemake.params.max_field_chars,
    )
    drops = drop_report(build_log)
    for log_entry in build_log["corpora"].values():
        log_entry["dropped"].pop("rows")  # listed in the drop report only
    write_jsonl(snakemake.output.records, records)
    write_json(snakemake.output.dedup_report, dedup_report)
    write_json(snakemake.output.build_log, build_log)
    write_json(snakemake.output.drop_report, drops)
    log.info(
        "%d records kept, %d duplicates removed, %d bad rows dropped",
        len(records),
        dedup_report["removed"],
        drops["total_dropped"],
    )
