# The support critic c(y, b) ≈ D_b (docs/method.md §5) and its scores.

rule train_critic:
    input:
        train="results/corpus/train.jsonl",
        references="results/references/references.json",
        human="results/features/human_train.npz",
        samples=expand("results/generations/{system}/train_samples.jsonl", system=SAMPLE_POLICIES),
        sample_features=expand("results/features/{system}_train_samples.npz", system=SAMPLE_POLICIES),
        model="results/models/base/train_summary.json",
    output:
        bundle=directory("results/critic/model"),
        report="results/critic/report.json",
    params:
        systems=SAMPLE_POLICIES,
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


rule critic_scores:
    input:
        unpack(lambda wc: response_inputs(wc.source, "test")),
        critic="results/critic/model",
    output:
        scores="results/critic/scores/{source}.jsonl",
    log:
        "results/logs/critic_scores_{source}.log",
    wildcard_constraints:
        source=one_of(["human", *SYSTEMS]),
    threads: 1  # short jobs: two side by side beat one on two threads
    resources:
        gpu=1,
    conda:
        CONDA_ENV
    script:
        "../scripts/score_critic.py"
