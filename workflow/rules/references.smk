# Human reference distributions (METHOD.md §3): features φ(y) and per-bucket references built
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
    threads: workflow.cores
    conda:
        CONDA_ENV
    script:
        "../scripts/compute_features.py"


rule system_features:
    input:
        records=lambda wc: f"results/corpus/{'train' if wc.kind == 'train_samples' else 'test'}.jsonl",
        generations="results/generations/{system}/{kind}.jsonl",
        model="results/models/base/train_summary.json",
    output:
        features="results/features/{system}_{kind}.npz",
        report="results/features/{system}_{kind}_report.json",
    params:
        settings=stage_settings("features", "prompt", "model"),
    priority: CRITICAL_PATH
    log:
        "results/logs/system_features_{system}_{kind}.log",
    wildcard_constraints:
        system="|".join(SYSTEMS),
        kind="test|train_samples",
    threads: workflow.cores
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
