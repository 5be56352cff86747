# Models: tokenizer and BaseLM pre-training (built once), SFT and Bucket-Aware SFT (per run seed;
# docs/method.md §4), and the independent detector pair (built once; docs/detectors.md).


rule train_tokenizer:
    input:
        unpack(pretrain_text_input),
        train="results/corpus/train.jsonl",
    output:
        tokenizer=directory("results/models/tokenizer"),
    log:
        "results/logs/train_tokenizer.log",
    benchmark:
        "results/benchmarks/train_tokenizer.tsv"
    conda:
        CONDA_ENV
    threads: 2
    params:
        model=config["model"],
    script:
        "../scripts/train_tokenizer.py"


rule pretrain_base:
    input:
        unpack(pretrain_text_input),
        train="results/corpus/train.jsonl",
        tokenizer="results/models/tokenizer",
    output:
        summary="results/models/base/train_summary.json",
    log:
        "results/logs/pretrain_base.log",
    benchmark:
        "results/benchmarks/pretrain_base.tsv"
    priority: CRITICAL_PATH
    conda:
        CONDA_ENV
    threads: workflow.cores  # runs alone (everything waits for the BaseLM); 2 threads: 1.6x
    resources:
        gpu=1,
    params:
        settings=stage_settings("model", "train_common", "pretrain", "prompt", "launch"),
    script:
        "../scripts/pretrain_base.py"


rule train_sft:
    input:
        train=lambda wc: f"results/corpus/{key_dir(wc.model)}train.jsonl",
        model="results/models/base/train_summary.json",
    output:
        summary="results/seed{seed}/models/{model}/train_summary.json",
    log:
        "results/logs/seed{seed}/train_sft_{model}.log",
    benchmark:
        "results/benchmarks/seed{seed}/train_sft_{model}.tsv"
    wildcard_constraints:
        model=one_of(SFT_TRAINED),
    priority: CRITICAL_PATH
    conda:
        CONDA_ENV
    threads: 1  # SFT and Bucket-SFT run side by side, one thread each
    resources:
        gpu=1,
    params:
        system=lambda wc: code_role(wc.model),
        settings=sft_settings,
    script:
        "../scripts/train_sft.py"


rule pretrain_detector_base:
    input:
        train="results/corpus/train.jsonl",
        tokenizer="results/models/tokenizer",
    output:
        summary="results/models/detector_base/train_summary.json",
    log:
        "results/logs/pretrain_detector_base.log",
    benchmark:
        "results/benchmarks/pretrain_detector_base.tsv"
    conda:
        CONDA_ENV
    threads: 1  # off the critical path: runs beside the systems' SFT
    resources:
        gpu=1,
    params:
        settings=independent_detector_settings("model", "train_common", "pretrain", "prompt", "launch"),
    script:
        "../scripts/pretrain_base.py"


rule train_detector_sft:
    input:
        train="results/corpus/train.jsonl",
        model="results/models/detector_base/train_summary.json",
    output:
        summary="results/models/detector_sft/train_summary.json",
    log:
        "results/logs/train_detector_sft.log",
    benchmark:
        "results/benchmarks/train_detector_sft.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
    params:
        system="sft",
        settings=independent_detector_settings(
            "model", "train_common", "sft", "prompt", "profile_length", "launch"
        ),
    script:
        "../scripts/train_sft.py"
