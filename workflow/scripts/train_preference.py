"""Rule train_preference: DPO or HDPO training (`polyalign.preference.train_preference`).

input:
    pairs      pairs JSONL of the system (rule build_pairs)
    reference  reference log-prob cache JSONL (rule reference_logps)
    model      the starting checkpoint (sft for dpo, bucket_sft for hdpo, a variant's own start
               policy): its train_summary.json or its directory
output:
    summary    <model dir>/train_summary.json; the trained model (save_pretrained), its
               train_log.jsonl and, while running, checkpoints/ are written into the summary's
               directory. Declaring the file (not the directory) as the output keeps Snakemake
               from deleting the checkpoints of an interrupted run, which the rerun resumes from.
params:
    system     a preference system of polyalign.systems (dpo, hdpo, a variant of one, ...)
    start_policy  optional: the name of the starting checkpoint's model, recorded in the summary
resources:
    gpu        processes of `accelerate launch` (config launch:; one process in process by default)
log: one file. threads: torch threads.
"""

from polyalign.preference.train import preference_job
from polyalign.train.launch import run_training
from polyalign.workflow.io import model_dir, model_output_dir, rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    out_dir = model_output_dir(snakemake.output.summary)
    job = {
        "stage": snakemake.params.system,
        "start_policy": getattr(snakemake.params, "start_policy", None),
        "config": dict(snakemake.params.settings),
        "out_dir": str(out_dir),
        "inputs": {
            "pairs": snakemake.input.pairs,
            "model": str(model_dir(snakemake.input.model)),
            "reference": snakemake.input.reference,
        },
    }
    summary = run_training(
        job, preference_job, getattr(snakemake.resources, "gpu", 1), snakemake.threads, snakemake.log[0]
    )
    log.info(
        "%s: %d steps on %d pairs in %.1f s",
        snakemake.params.system,
        summary["train"]["steps"],
        summary["pairs"],
        summary["seconds"],
    )
