"""Rule table1_corpus_inventory: Table 1 (corpus and bucket inventory, and the BaseLM's
pre-training text when the scratch BaseLM reads one) as Markdown and LaTeX."""

from polyalign.data.pretrain_text import SOURCES as PRETRAIN_SOURCES
from polyalign.io import read_json, read_jsonl
from polyalign.report.inventory import bucket_inventory, corpus_inventory, pretrain_inventory
from polyalign.report.tables import write_tables
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]):
    by_split = {s: read_jsonl(snakemake.input[s]) for s in ("train", "val", "test")}
    sections = [corpus_inventory(by_split)] + bucket_inventory(read_json(snakemake.input.stats))
    if "pretrain" in snakemake.input.keys():
        packages = {source: package for source, (package, _, _) in PRETRAIN_SOURCES.items()}
        sections.append(pretrain_inventory(read_json(snakemake.input.pretrain), packages))
    write_tables(sections, snakemake.output.md, snakemake.output.tex)
