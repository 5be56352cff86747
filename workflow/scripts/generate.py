"""Rules generate_test / generate_train_samples: batched generation (`polyalign.generation.generate.generate_file`,
sharded over one process per GPU by `polyalign.generation.shards` when the rule has several).

One shared decoding config (`generation:`), the system's own prompt format (base, sft, dpo:
plain; cot: reasoning prompt, scored on the extracted answer; bucket_sft, hdpo: bucket profile
with the length bin from `profile_length`).

input:
    records      records to answer: results/corpus/test.jsonl (evaluation) or train.jsonl (samples
                 for preference pairs)
    model        the system's model: its train_summary.json or its directory (base and cot both
                 use results/models/base)
    train        train-split records JSONL: fits the profile length sampler (profile systems)
output:
    generations  JSONL, one row per (record, sample) in input order: id, sample, system, style,
                 prompt, output, answer, answer_found, finish_reason, prompt_tokens,
                 output_tokens, profile_length, length_bin
    summary      JSON: counts, decoding config, eos rate, timings
params:
    system         a system of polyalign.systems (the code role: a variant generates as its parent)
    style          optional: the prompt style when it is not the system's own (a variant of
                   Bucket-SFT trained on plain prompts, bucket_sft.profile_prompts false)
    num_samples    optional: samples per prompt (train-prompt samples for preference pairs)
    profile_length optional: overrides config profile_length (the registry's gold for the
                   labelled oracle row bucket_sft_gold)
resources:
    gpu      processes: one generates in this job; G > 1 shard the batches over G processes
             (`accelerate launch`), with the one-process output file
log: one file. threads: torch threads (split over the processes).
"""

from polyalign.generation.shards import run_generation
from polyalign.io import write_json
from polyalign.workflow.io import model_dir, rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    overrides = {}
    if getattr(snakemake.params, "num_samples", None):
        overrides["num_samples"] = int(snakemake.params.num_samples)
    job = {
        "model": str(model_dir(snakemake.input.model)),
        "records": snakemake.input.records,
        "train": snakemake.input.train,
        "system": snakemake.params.system,
        "config": dict(snakemake.params.settings),
        "out": snakemake.output.generations,
        "overrides": overrides,
        "profile_length": getattr(snakemake.params, "profile_length", None) or None,
        "style": getattr(snakemake.params, "style", None) or None,
    }
    summary = run_generation(job, getattr(snakemake.resources, "gpu", 1), snakemake.threads, snakemake.log[0])
    write_json(snakemake.output.summary, summary)
    log.info(
        "%s: %d rows in %.1f s (%.0f output tokens/s, eos rate %.2f)",
        summary["system"],
        summary["rows"],
        summary["seconds"],
        summary["output_tokens_per_s"],
        summary["eos_rate"],
    )
