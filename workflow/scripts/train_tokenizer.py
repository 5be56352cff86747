"""Rule train_tokenizer: the tokenizer of the base model (`polyalign.models.build_tokenizer`).

model.source = scratch: a byte-level BPE trained on the train split (both languages: questions,
contexts, history turns, answers). Any other source: that model's own tokenizer, saved as is.

input:
    train      train-split records JSONL (results/corpus/train.jsonl)
output:
    tokenizer  directory (declare with directory()): tokenizer.json, tokenizer_config.json,
               chat_template.jinja (save_pretrained)
log: one file. threads: torch/tokenizers threads.
"""
import os

from polyalign.io import read_jsonl
from polyalign.models import build_tokenizer, model_config
from polyalign.workflow_io import rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    os.environ.setdefault("RAYON_NUM_THREADS", str(snakemake.threads))
    cfg = model_config(snakemake.params.model)
    train = read_jsonl(snakemake.input.train) if cfg["source"] == "scratch" else None
    tokenizer = build_tokenizer(cfg, train)
    tokenizer.save_pretrained(snakemake.output.tokenizer)
    log.info("tokenizer (%s): %d tokens, saved to %s", cfg["source"], len(tokenizer), snakemake.output.tokenizer)
