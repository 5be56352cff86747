"""Rule train_sft for model = sft | bucket_sft (`polyalign.train.sft.train_sft`).

sft: plain prompts, unweighted. bucket_sft: bucket-profile prompts and bucket weights (config
`bucket_sft: {tau, cap, sampler}`); both use `sft:` on top of `train_common:`, bucket_sft's own
training keys on top of that.

input:
    train    train-split records JSONL (results/corpus/train.jsonl; a variant with its own bucket key
             reads that key's, results/corpus/bucket_key/{key}/train.jsonl, and gets the key in
             its settings)
    model    the base model: its train_summary.json (rule pretrain_base) or its directory
output:
    summary  results/seed{seed}/models/{model}/train_summary.json; the model, tokenizer, train_log.jsonl
             and, while running, checkpoints/ go into its directory (file, not directory, so an
             interrupted run keeps its checkpoints and the rerun resumes).
params:
    system   "sft" | "bucket_sft"
resources:
    gpu      processes of `accelerate launch` (config launch:; one process in process by default)
log: one file. threads: torch threads.
"""

from polyalign.train.launch import run_training
from polyalign.train.sft import sft_job
from polyalign.workflow.io import model_dir, model_output_dir, rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    out_dir = model_output_dir(snakemake.output.summary)
    job = {
        "stage": snakemake.params.system,
        "config": dict(snakemake.params.settings),
        "out_dir": str(out_dir),
        "inputs": {"train": snakemake.input.train, "model": str(model_dir(snakemake.input.model))},
    }
    summary = run_training(
        job, sft_job, getattr(snakemake.resources, "gpu", 1), snakemake.threads, snakemake.log[0]
    )
    log.info(
        "%s: %d steps on %d examples in %.1f s",
        snakemake.params.system,
        summary["train"]["steps"],
        summary["examples"],
        summary["seconds"],
    )
    if "weighting" in summary:
        wr = summary["weighting"]
        log.info(
            "bucket weights: %d bucket(s) under min_bucket_size %d backed off (backoff %s); max weight %.3g",
            wr["buckets_backed_off"],
            wr["min_bucket_size"],
            wr["backoff"],
            wr["loss_mass"]["max_weight"],
        )
        for kind in ("by_language", "by_bucket_size"):
            for key, v in wr["loss_mass"][kind].items():
                log.info(
                    "loss-mass share %s %s: %.3f (examples %.3f)", kind, key, v["loss_mass"], v["examples"]
                )
