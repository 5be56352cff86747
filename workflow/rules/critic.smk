# The support critic c(y, b) ≈ D_b (docs/method.md §5) and its scores.

CRITIC_SAMPLE_SYSTEMS = ["sft", "bucket_sft"]


rule train_critic:
    input:
        train="results/corpus/train.jsonl",
        references="results/references/references.json",
        human="results/features/human_train.npz",
        samples=expand("results/generations/{system}/train_samples.jsonl", system=CRITIC_SAMPLE_SYSTEMS),
        sample_features=expand("results/features/{system}_train_samples.npz", system=CRITIC_SAMPLE_SYSTEMS),
        model="results/models/base/train_summary.json",
    output:
        bundle=directory("results/critic/model"),
        report="results/critic/report.json",
    params:
        systems=CRITIC_SAMPLE_SYSTEMS,
        settings=stage_settings("critic"),
    priority: CRITICAL_PATH
    log:
        "results/logs/train_critic.log",
    threads: workflow.cores
    resources:
        gpu=1,
    conda:
        CONDA_ENV
    script:
        "../scripts/train_critic.py"


rule critic_scores_human:
    input:
        critic="results/critic/model",
        records="results/corpus/test.jsonl",
    output:
        scores="results/critic/scores/human.jsonl",
    log:
        "results/logs/critic_scores_human.log",
    threads: 1  # short jobs: two side by side beat one on two threads
    conda:
        CONDA_ENV
    script:
        "../scripts/score_critic.py"


rule critic_scores_system:
    input:
        critic="results/critic/model",
        records="results/corpus/test.jsonl",
        generations="results/generations/{system}/test.jsonl",
    output:
        scores="results/critic/scores/{system}.jsonl",
    log:
        "results/logs/critic_scores_{system}.log",
    wildcard_constraints:
        system="|".join(SYSTEMS),
    threads: 1  # short jobs: two side by side beat one on two threads
    conda:
        CONDA_ENV
    script:
        "../scripts/score_critic.py"
