# Evaluation (docs/method.md §9): features and embeddings of every system's test generations, one
# metrics file per system with bootstrap CIs, and the combined summary.


rule embeddings:
    input:
        unpack(lambda wc: response_inputs(embedding_source(wc.name), "test")),
        encoder="results/models/base/train_summary.json",
    output:
        embeddings="results/embeddings/{name}.npz",
    params:
        settings=stage_settings("embeddings"),
    log:
        "results/logs/embeddings_{name}.log",
    wildcard_constraints:
        name=one_of(["human_test", *SYSTEMS]),
    threads: 1  # short jobs: two side by side beat one on two threads
    conda:
        CONDA_ENV
    script:
        "../scripts/embed_responses.py"


rule evaluate_system:
    input:
        test="results/corpus/test.jsonl",
        generations="results/generations/{system}/test.jsonl",
        human_features="results/features/human_test.npz",
        features="results/features/{system}_test.npz",
        references="results/references/references.json",
        human_embeddings="results/embeddings/human_test.npz",
        embeddings="results/embeddings/{system}.npz",
    output:
        metrics="results/metrics/{system}.json",
        bootstrap="results/metrics/{system}.bootstrap.json",
    params:
        system="{system}",
        evaluation=config["evaluation"],
    log:
        "results/logs/evaluate_system_{system}.log",
    wildcard_constraints:
        system="|".join(SYSTEMS),
    threads: 1
    conda:
        CONDA_ENV
    script:
        "../scripts/evaluate_system.py"


rule combine_metrics:
    input:
        metrics=expand("results/metrics/{system}.json", system=SYSTEMS),
    output:
        summary="results/metrics/summary.json",
        tsv="results/metrics/all_systems.tsv",
        headline="results/metrics/headline.json",
    log:
        "results/logs/combine_metrics.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/combine_metrics.py"
