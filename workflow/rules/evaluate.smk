# Evaluation (METHOD.md §9): features and embeddings of every system's test generations, one
# metrics file per system with bootstrap CIs, and the combined summary.


rule embeddings:
    input:
        unpack(lambda wc: response_inputs(wc.run, embedding_source(wc.name), "test")),
        encoder="results/models/base/train_summary.json",
    output:
        embeddings="results/{run}embeddings/{name}.npz",
    params:
        settings=stage_settings("embeddings"),
    log:
        "results/logs/{run}embeddings_{name}.log",
    wildcard_constraints:
        run=RUN_PREFIX,
        name=one_of(["human_test", *SYSTEMS]),
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
        bootstrap="results/metrics/seed{seed}/{system}.bootstrap.json",
    params:
        system="{system}",
        evaluation=config["evaluation"],
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
        bootstraps=per_seed("results/metrics/seed{seed}/{system}.bootstrap.json", system=SYSTEMS),
    output:
        summary="results/metrics/summary.json",
        tsv="results/metrics/all_systems.tsv",
        headline="results/metrics/headline.json",
    params:
        systems=SYSTEMS,
    log:
        "results/logs/combine_metrics.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/combine_metrics.py"
