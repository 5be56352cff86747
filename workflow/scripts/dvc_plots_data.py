"""Rule dvc_plots_data: the CSV series of `dvc plots show` (dvc.yaml `plots:`):
results/plots/training/{model}.csv (step, loss from the model's train_log.jsonl) and
results/plots/per_seed_metrics.csv (one row per system and seed)."""

import json
from pathlib import Path

from polyalign.report.dvc_exports import PER_SEED_METRICS, per_seed_rows, training_curve, write_csv
from polyalign.train.settings import LOG_FILE
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    for out in snakemake.output.curves:
        name = Path(out).stem
        log_path = Path(snakemake.input[f"log_{name}"]).with_name(LOG_FILE)
        rows = training_curve(log_path)
        write_csv(out, rows, ["step", "loss"])
        log.info("%s: %d logged steps from %s", name, len(rows), log_path)

    runs = {}
    for key, path in snakemake.input.items():
        if key.startswith("metrics_"):
            system, seed = key[len("metrics_") :].split("__")
            with open(path, encoding="utf-8") as f:
                runs[(system, None if seed == "none" else int(seed))] = json.load(f)
    write_csv(snakemake.output.per_seed, per_seed_rows(runs), ["run", "system", "seed", *PER_SEED_METRICS])
    log.info("per-seed metrics: %d runs", len(runs))
