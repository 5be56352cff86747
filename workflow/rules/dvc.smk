# What DVC shows (dvc.yaml): the compact metrics table and the data series of `dvc plots`.
# Trained models with a training curve; BaseLM is trained once, the others once per seed when
# the config has `seeds` (results/seed{seed}/...), else once (results/models/...).
TRAINED_MODELS = ["sft", "bucket_sft", "dpo", "hdpo"]


def seeded_runs():
    """[(seed or None, path prefix)] of the per-seed results layout, or of today's single run."""
    seeds = config.get("seeds")
    if not seeds:
        return [(None, "results")]
    return [(seed, f"results/seed{seed}") for seed in seeds]


def training_logs():
    """{curve name: train_summary.json of the model}; the log lies next to the summary."""
    logs = {"base": "results/models/base/train_summary.json"}
    for seed, prefix in seeded_runs():
        for name in TRAINED_MODELS:
            curve = name if seed is None else f"{name}_seed{seed}"
            logs[curve] = f"{prefix}/models/{name}/train_summary.json"
    return logs


def per_seed_metric_files():
    """{"system__seed": metrics JSON of that system and seed} (seed "none" without seeds)."""
    files = {}
    for seed, _ in seeded_runs():
        for system in SYSTEMS:
            if seed is None:
                files[f"{system}__none"] = f"results/metrics/{system}.json"
            else:
                files[f"{system}__{seed}"] = f"results/metrics/seed{seed}/{system}.json"
    return files


rule dvc_metrics:
    input:
        headline="results/metrics/headline.json",
    output:
        "results/metrics/aggregate.json",
    log:
        "results/logs/dvc_metrics.log",
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
    conda:
        CONDA_ENV
    script:
        "../scripts/dvc_plots_data.py"
