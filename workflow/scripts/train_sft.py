"""Rule train_sft for model = sft | bucket_sft (`polyalign.train.sft.train_sft`).

sft: plain prompts, unweighted. bucket_sft: bucket-profile prompts and bucket weights (config
`bucket_sft: {tau, cap, sampler}`); both use `sft:` on top of `train_common:`, bucket_sft's own
training keys on top of that.

input:
    train    train-split records JSONL (results/corpus/train.jsonl)
    model    the base model: its train_summary.json (rule pretrain_base) or its directory
output:
    summary  results/models/{system}/train_summary.json; the model, tokenizer, train_log.jsonl
             and, while running, checkpoints/ go into its directory (file, not directory, so an
             interrupted run keeps its checkpoints and the rerun resumes).
params:
    system   "sft" | "bucket_sft"
log: one file. threads: torch threads.
"""
from polyalign.io import read_jsonl
from polyalign.train.sft import train_sft
from polyalign.workflow_io import model_dir, model_output_dir, rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    out_dir = model_output_dir(snakemake.output.summary)
    summary = train_sft(read_jsonl(snakemake.input.train), model_dir(snakemake.input.model), snakemake.params.settings, out_dir,
                        snakemake.params.system)
    log.info("%s: %d steps on %d examples in %.1f s", snakemake.params.system, summary["train"]["steps"],
             summary["examples"], summary["seconds"])
