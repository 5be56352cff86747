"""Rule pretrain_base: BaseLM (`polyalign.train.sft.pretrain_base`).

model.source = scratch: a LlamaForCausalLM sized by `model:` is pre-trained as a causal LM on the
train split rendered as chat dialogues and the pre-training text packed into full blocks (config
`pretrain:` on top of `train_common:`). Any other source: the hub/local model is copied as is.

input:
    train          train-split records JSONL (results/corpus/train.jsonl)
    tokenizer      tokenizer directory (rule train_tokenizer)
    pretrain_text  (optional) pre-training documents (rule build_pretrain_text)
output:
    summary    results/models/base/train_summary.json. The model (save_pretrained, safetensors),
               tokenizer, train_log.jsonl and, while running, checkpoints/ go into its directory.
               Declaring the file rather than the directory keeps Snakemake from deleting the
               checkpoints of an interrupted run; rerunning resumes from them.
log: one file. threads: torch threads.
"""

from polyalign.train.launch import run_training
from polyalign.train.sft import pretrain_job
from polyalign.workflow.io import model_output_dir, rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    out_dir = model_output_dir(snakemake.output.summary)
    job = {
        "stage": "pretrain",
        "config": dict(snakemake.params.settings),
        "out_dir": str(out_dir),
        "inputs": {
            "train": snakemake.input.train,
            "tokenizer": snakemake.input.tokenizer,
            "pretrain_text": snakemake.input.get("pretrain_text"),
        },
    }
    summary = run_training(
        job, pretrain_job, getattr(snakemake.resources, "gpu", 1), snakemake.threads, snakemake.log[0]
    )
    if summary["trained"]:
        log.info(
            "base: %d parameters, %d steps in %.1f s",
            summary["parameters"],
            summary["train"]["steps"],
            summary["seconds"],
        )
    else:
        log.info("base: copied %s", summary["source"])
