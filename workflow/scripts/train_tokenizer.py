"""Rule train_tokenizer: the tokenizer of the base model (`polyalign.models.build_tokenizer`).

model.source = scratch: a character-level BPE trained on the train split (both languages:
questions, contexts, history turns, answers, plus the fixed prompt texts) and the BaseLM's
pre-training text; every CJK character is one token. Any other source: that model's own
tokenizer, saved as is.

input:
    train          train-split records JSONL (results/corpus/train.jsonl)
    pretrain_text  (optional) the pre-training text (rule build_pretrain_text)
output:
    tokenizer  directory (declare with directory()): tokenizer.json, tokenizer_config.json,
               chat_template.jinja (save_pretrained) and tokenizer_report.json (tokens per
               character and answer-length quantiles per language, CJK coverage)
log: one file. threads: torch/tokenizers threads.
"""

import os
from pathlib import Path

from polyalign.io import read_jsonl, write_json
from polyalign.models import build_tokenizer, model_settings
from polyalign.models.tokenizer import record_texts
from polyalign.models.tokenizer_report import check_serves_chinese, tokenizer_report
from polyalign.prompts import prompt_scaffold_texts
from polyalign.train.pretrain_corpus import document_texts
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    os.environ.setdefault("RAYON_NUM_THREADS", str(snakemake.threads))
    cfg = model_settings(snakemake.params.model)
    train = read_jsonl(snakemake.input.train)
    extra = (
        document_texts(read_jsonl(snakemake.input.pretrain_text))
        if "pretrain_text" in snakemake.input.keys()
        else []
    )
    tokenizer = (
        build_tokenizer(cfg, train, prompt_scaffold_texts(), extra)
        if cfg.is_scratch
        else build_tokenizer(cfg)
    )
    report = tokenizer_report(tokenizer, train, texts=[*record_texts(train), *extra])
    report["source"] = cfg.source
    if cfg.is_scratch:
        check_serves_chinese(report)
    tokenizer.save_pretrained(snakemake.output.tokenizer)
    write_json(Path(snakemake.output.tokenizer) / "tokenizer_report.json", report)
    log.info("tokenizer (%s): %d tokens, saved to %s", cfg.source, len(tokenizer), snakemake.output.tokenizer)
    for lang, s in report["per_language"].items():
        q = report["answer_length_tokens"][lang]
        log.info(
            "%s answers: %.3f tokens per character (%d unk, %d round-trip failures); answer length "
            "p50 %d, p90 %d, p95 %d tokens",
            lang,
            s["tokens_per_char"],
            s["unk_tokens"],
            s["round_trip_failures"],
            q["p50"],
            q["p90"],
            q["p95"],
        )
    log.info(
        "CJK characters in the train texts: %d, not a single token: %d",
        report["cjk_chars"],
        report["n_cjk_chars_not_one_token"],
    )
