# Evaluation: features and embeddings of every system's test generations, one metrics file per
# system and run seed (point estimates + the arrays its bootstrap needs), and the pooled results
# over seeds with two-level bootstrap intervals (docs/evaluation.md).


rule embed_human:
    input:
        records="results/corpus/test.jsonl",
        encoder="results/models/base/train_summary.json",
    output:
        embeddings="results/embeddings/human_test.npz",
    params:
        settings=stage_settings("embeddings"),
    log:
        "results/logs/embed_human.log",
    threads: 1  # short jobs: two side by side beat one on two threads
    conda:
        CONDA_ENV
    script:
        "../scripts/embed_responses.py"


rule embed_system:
    input:
        records="results/corpus/test.jsonl",
        encoder="results/models/base/train_summary.json",
        generations="results/seed{seed}/generations/{system}/test.jsonl",
    output:
        embeddings="results/seed{seed}/embeddings/{system}.npz",
    params:
        settings=stage_settings("embeddings"),
    log:
        "results/logs/seed{seed}/embed_system_{system}.log",
    wildcard_constraints:
        system="|".join(SYSTEMS),
    threads: 1  # short jobs: two side by side beat one on two threads
    conda:
        CONDA_ENV
    script:
        "../scripts/embed_responses.py"


rule evaluate_system:
    input:
        test="results/corpus/test.jsonl",
        generations="results/seed{seed}/generations/{system}/test.jsonl",
        human_features="results/features/human_test.npz",
        features="results/seed{seed}/features/{system}_test.npz",
        references="results/references/references.json",
        human_embeddings="results/embeddings/human_test.npz",
        embeddings="results/seed{seed}/embeddings/{system}.npz",
    output:
        metrics="results/metrics/seed{seed}/{system}.json",
        resample="results/metrics/seed{seed}/{system}.resample.npz",
    params:
        system="{system}",
        seed="{seed}",
        evaluation=evaluation_settings(),
    log:
        "results/logs/seed{seed}/evaluate_system_{system}.log",
    wildcard_constraints:
        system="|".join(SYSTEMS),
    threads: 1
    conda:
        CONDA_ENV
    script:
        "../scripts/evaluate_system.py"


rule combine_metrics:
    input:
        metrics=per_seed("results/metrics/seed{seed}/{system}.json", system=SYSTEMS),
        resample=per_seed("results/metrics/seed{seed}/{system}.resample.npz", system=SYSTEMS),
    output:
        summary="results/metrics/summary.json",
        tsv="results/metrics/all_systems.tsv",
        headline="results/metrics/headline.json",
        replicates="results/metrics/bootstrap_replicates.npz",
    params:
        systems=SYSTEMS,
        seeds=SEEDS,
        bootstrap=config["evaluation"].get("bootstrap", {}),
    log:
        "results/logs/combine_metrics.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/combine_metrics.py"
