# Models: tokenizer and BaseLM pre-training (built once), SFT and Bucket-Aware SFT (per run seed;
# docs/method.md §4).


rule train_tokenizer:
    input:
        train="results/corpus/train.jsonl",
    output:
        tokenizer=directory("results/models/tokenizer"),
    params:
        model=config["model"],
    log:
        "results/logs/train_tokenizer.log",
    threads: 2
    conda:
        CONDA_ENV
    script:
        "../scripts/train_tokenizer.py"


rule pretrain_base:
    input:
        train="results/corpus/train.jsonl",
        tokenizer="results/models/tokenizer",
    output:
        summary="results/models/base/train_summary.json",
    params:
        settings=stage_settings("model", "train_common", "pretrain", "prompt", "launch"),
    priority: CRITICAL_PATH
    log:
        "results/logs/pretrain_base.log",
    threads: workflow.cores  # runs alone (everything waits for the BaseLM); 2 threads: 1.6x
    resources:
        gpu=1,
    conda:
        CONDA_ENV
    script:
        "../scripts/pretrain_base.py"


rule train_sft:
    input:
        train="results/corpus/train.jsonl",
        model="results/models/base/train_summary.json",
    output:
        summary="results/seed{seed}/models/{model}/train_summary.json",
    params:
        system="{model}",
        settings=sft_settings,
    priority: CRITICAL_PATH
    log:
        "results/logs/seed{seed}/train_sft_{model}.log",
    wildcard_constraints:
        model=one_of(SFT_MODELS),
    threads: 1  # SFT and Bucket-SFT run side by side, one thread each
    resources:
        gpu=1,
    conda:
        CONDA_ENV
    script:
        "../scripts/train_sft.py"
