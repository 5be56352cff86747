# Evaluation: embeddings of every system's test generations, one metrics file per system and
# run seed (point estimates + the arrays its bootstrap needs), and the pooled results over seeds
# with two-level bootstrap intervals (docs/evaluation.md).


rule embeddings:
    input:
        unpack(lambda wc: response_inputs(wc.run, embedding_source(wc.name), "test")),
        encoder="results/models/base/train_summary.json",
    output:
        embeddings="results/{run}embeddings/{name}.npz",
    log:
        "results/logs/{run}embeddings_{name}.log",
    benchmark:
        "results/benchmarks/{run}embeddings_{name}.tsv"
    wildcard_constraints:
        run=RUN_PREFIX,
        name=one_of(["human_test", *RUN_SYSTEMS]),
    conda:
        CONDA_ENV
    threads: 1  # short jobs: two side by side beat one on two threads
    resources:
        gpu=1,
    params:
        settings=stage_settings("embeddings", "model"),
    script:
        "../scripts/embed_responses.py"


rule evaluate_system:
    input:
        unpack(lambda wc: evaluation_inputs(wc.seed, wc.system)),
    output:
        metrics="results/metrics/seed{seed}/{system}.json",
        resample="results/metrics/seed{seed}/{system}.resample.npz",
    log:
        "results/logs/seed{seed}/evaluate_system_{system}.log",
    benchmark:
        "results/benchmarks/seed{seed}/evaluate_system_{system}.tsv"
    wildcard_constraints:
        system=one_of(RUN_SYSTEMS),
        seed="[0-9]+",
    conda:
        CONDA_ENV
    threads: 1
    params:
        system="{system}",
        seed="{seed}",
        evaluation=evaluation_settings(),
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
    log:
        "results/logs/combine_metrics.log",
    benchmark:
        "results/benchmarks/combine_metrics.tsv"
    conda:
        CONDA_ENV
    params:
        systems=SYSTEMS,
        seeds=SEEDS,
        bootstrap=config["evaluation"]["bootstrap"],
    script:
        "../scripts/combine_metrics.py"
