# Evaluation: the trivial baselines' answers (polyalign.baselines), features and embeddings of
# every system's and baseline's test answers (one job each), one metrics file per system and
# run seed (point estimates + the arrays its bootstrap needs), and the pooled results over seeds
# with two-level t intervals (docs/evaluation.md).


rule features_test:
    input:
        unpack(lambda wc: response_inputs(wc.run, wc.source, "test")),
        model="results/models/base/train_summary.json",
        encoder="results/models/base/train_summary.json",
    output:
        features="results/{run}features/{source}_test.npz",
        report="results/{run}features/{source}_test_report.json",
        embeddings="results/{run}embeddings/{source}.npz",
    log:
        "results/logs/{run}features_test_{source}.log",
    benchmark:
        "results/benchmarks/{run}features_test_{source}.tsv"
    wildcard_constraints:
        run=RUN_PREFIX,
        source=one_of(["human", *RUN_SYSTEMS, *BASELINES]),
    conda:
        CONDA_ENV
    threads: 1  # short jobs: two side by side beat one on two threads
    resources:
        gpu=1,
    params:
        settings=stage_settings("features", "prompt", "model", "embeddings"),
    script:
        "../scripts/features_test.py"


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
        system=one_of(RUN_SYSTEMS + BASELINES),
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
        metrics=per_seed("results/metrics/seed{seed}/{system}.json", system=EVALUATED),
        resample=per_seed("results/metrics/seed{seed}/{system}.resample.npz", system=EVALUATED),
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
        systems=EVALUATED,
        seeds=SEEDS,
        bootstrap=config["evaluation"]["bootstrap"],
    script:
        "../scripts/combine_metrics.py"


rule baseline_answers:
    input:
        test="results/corpus/test.jsonl",
        train="results/corpus/train.jsonl",
    output:
        generations="results/{run}generations/{baseline}/test.jsonl",
        report="results/{run}generations/{baseline}/test_summary.json",
    log:
        "results/logs/{run}baseline_answers_{baseline}.log",
    benchmark:
        "results/benchmarks/{run}baseline_answers_{baseline}.tsv"
    wildcard_constraints:
        run=RUN_PREFIX,
        baseline=one_of(BASELINES),
    localrule: True
    conda:
        CONDA_ENV
    params:
        baseline="{baseline}",
        seed=lambda wc: seed_of(wc.run) if wc.run else None,
        zh_tokenization=config["evaluation"]["zh_tokenization"],
    script:
        "../scripts/baseline_answers.py"
