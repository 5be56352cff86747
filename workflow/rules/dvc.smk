# What DVC shows (dvc.yaml): the compact metrics table and the data series of `dvc plots`.


rule dvc_metrics:
    input:
        headline="results/metrics/headline.json",
    output:
        "results/metrics/aggregate.json",
    log:
        "results/logs/dvc_metrics.log",
    benchmark:
        "results/benchmarks/dvc_metrics.tsv"
    localrule: True
    conda:
        CONDA_ENV
    script:
        "../scripts/dvc_metrics.py"


rule dvc_plots_data:
    input:
        **{f"log_{name}": path for name, path in training_logs().items()},
        **{f"metrics_{key}": path for key, path in per_seed_metric_files().items()},
    output:
        curves=[f"results/plots/training/{name}.csv" for name in training_logs()],
        per_seed="results/plots/per_seed_metrics.csv",
    log:
        "results/logs/dvc_plots_data.log",
    benchmark:
        "results/benchmarks/dvc_plots_data.tsv"
    localrule: True
    conda:
        CONDA_ENV
    script:
        "../scripts/dvc_plots_data.py"
