"""Rule judge_system: one judge scores one system's test outputs on the eight dimensions.

input:   records (test split), generations (the system's test outputs)
output:  scores  JSONL, one row per output: id, system, language, prompt_tokens, over_length,
                 scores / expected / score_mass per dimension (absent when over_length)
         summary JSON: counts (scored, over-length with ids, parse failures), the judge settings
params:  judge (name), model (path, dtype, chat_template_kwargs), settings (batch_size,
         max_prompt_tokens, device)
"""

from polyalign.io import read_jsonl, write_json, write_jsonl
from polyalign.judge.score import judge_rows
from polyalign.models.runtime import load_for_inference
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    spec, settings = snakemake.params.model, snakemake.params.settings
    model, tokenizer = load_for_inference(spec["path"], device=settings["device"], dtype=spec["dtype"])
    records = read_jsonl(snakemake.input.records)
    candidates = read_jsonl(snakemake.input.generations)
    rows, counts = judge_rows(
        model,
        tokenizer,
        records,
        candidates,
        batch_size=settings["batch_size"],
        max_prompt_tokens=settings["max_prompt_tokens"],
        chat_template_kwargs=spec["chat_template_kwargs"],
    )
    log.info("judge %s: %s", snakemake.params.judge, counts)
    write_jsonl(snakemake.output.scores, rows)
    write_json(snakemake.output.summary, {"judge": snakemake.params.judge, "model": spec, **counts})
