# Human reference distributions (docs/method.md §3): features φ(y) and per-bucket references built
# from the train split only.


rule human_features:
    input:
        records="results/corpus/{split}.jsonl",
        model="results/models/base/train_summary.json",
    output:
        features="results/features/human_{split}.npz",
        report="results/features/human_{split}_report.json",
    params:
        settings=stage_settings("features", "prompt", "model"),
    priority: CRITICAL_PATH
    log:
        "results/logs/human_features_{split}.log",
    wildcard_constraints:
        split="train|test",
    threads: 1  # feature jobs run side by side
    conda:
        CONDA_ENV
    script:
        "../scripts/compute_features.py"


rule sample_features:
    input:
        records="results/corpus/train.jsonl",
        generations="results/generations/{system}/train_samples.jsonl",
        model="results/models/base/train_summary.json",
    output:
        features="results/features/{system}_train_samples.npz",
        report="results/features/{system}_train_samples_report.json",
    params:
        settings=stage_settings("features", "prompt", "model"),
    priority: CRITICAL_PATH  # the critic's negatives
    log:
        "results/logs/sample_features_{system}.log",
    wildcard_constraints:
        system="|".join(SYSTEMS),
    threads: 1
    conda:
        CONDA_ENV
    script:
        "../scripts/compute_features.py"


rule system_features:
    input:
        records="results/corpus/test.jsonl",
        generations="results/generations/{system}/test.jsonl",
        model="results/models/base/train_summary.json",
    output:
        features="results/features/{system}_test.npz",
        report="results/features/{system}_test_report.json",
    params:
        settings=stage_settings("features", "prompt", "model"),
    log:
        "results/logs/system_features_{system}_test.log",
    wildcard_constraints:
        system="|".join(SYSTEMS),
    threads: 1
    conda:
        CONDA_ENV
    script:
        "../scripts/compute_features.py"


rule build_references:
    input:
        features="results/features/human_train.npz",
    output:
        references="results/references/references.json",
        summary="results/references/summary.md",
        table="results/references/summary.tsv",
    params:
        min_bucket_size=config["min_bucket_size"],
    priority: CRITICAL_PATH
    log:
        "results/logs/build_references.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/build_references.py"
