"""Rule embeddings: MAUVE embeddings of human test answers or of a system's
test generations (polyalign.evaluation.embeddings.embed_texts).

input:
    records      results/corpus/test.jsonl
    encoder      the encoder: results/models/base/train_summary.json (embedded default) — the
                 config's evaluation.mauve_encoder names a hub id/path instead at paper scale
    generations  optional: a system's test generations (`answer` field); else the human answers
output:
    embeddings   .npz with ids, E (float32; NaN rows = empty generations, left out of MAUVE)
log: one file. threads: torch threads.
"""

from polyalign.evaluation.embeddings import embed_texts, save_embeddings
from polyalign.io import read_jsonl
from polyalign.models.runtime import load_encoder
from polyalign.workflow.io import model_dir, rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    settings = snakemake.params.settings["embeddings"]
    encoder = settings.get("encoder") or str(model_dir(snakemake.input.encoder))
    model, tokenizer = load_encoder(encoder, device=snakemake.params.settings["model"]["device"])
    if "generations" in snakemake.input.keys():
        rows = read_jsonl(snakemake.input.generations)
        ids, texts = [g["id"] for g in rows], [g["answer"] for g in rows]
    else:
        rows = read_jsonl(snakemake.input.records)
        ids, texts = [r["id"] for r in rows], [r["human_answer"] for r in rows]
    E = embed_texts(model, tokenizer, texts, settings["batch_size"], settings["max_length"])
    save_embeddings(snakemake.output.embeddings, ids, E)
    log.info("encoder %s: %d rows, %d empty", encoder, len(ids), int((~(E == E).all(axis=1)).sum()))
