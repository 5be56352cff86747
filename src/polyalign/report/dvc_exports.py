"""Small files for DVC to show: the compact metrics table and the data of `dvc plots`.

`dvc metrics show` prints one row per metrics file and one column per (flattened) key, so the
metrics file holds one number per system: the pooled overall Aggregate. `dvc plots` reads CSV,
not JSON lines, so the training logs are rewritten as step/loss tables, one file per model.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

# Per-seed columns of the per-seed plot: the overall point estimates of Table 2's metrics.
PER_SEED_METRICS = ("aggregate", "qa_f1", "bng_macro", "g_mauve", "nuf")
AGGREGATE_DIGITS = 4


def aggregate_by_system(headline: dict) -> dict[str, float | None]:
    """{system: overall Aggregate point, rounded}; a non-finite or missing value becomes None."""
    table = {}
    for system, scopes in headline.items():
        point = scopes["overall"]["aggregate"]["point"]
        table[system] = round(point, AGGREGATE_DIGITS) if point is not None and math.isfinite(point) else None
    return table


def training_curve(log_path: str | Path) -> list[dict]:
    """[{step, loss}] of a trainer's train_log.jsonl (one JSON object per logged step)."""
    rows = []
    for line_no, line in enumerate(Path(log_path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{log_path}:{line_no}: not a JSON object ({err.msg})") from err
        rows.append({"step": int(entry["step"]), "loss": float(entry["loss"])})
    return rows


def per_seed_rows(metrics_by_run: dict[tuple[str, int | None], dict]) -> list[dict]:
    """One row per (system, seed) with the overall value of each PER_SEED_METRICS entry (per-seed
    metrics files hold point estimates only; their intervals come from the pooled bootstrap).

    `run` labels the row for a bar chart ("hdpo/seed1", or the system alone without seeds)."""
    rows = []
    for (system, seed), metrics in sorted(
        metrics_by_run.items(), key=lambda item: (item[0][0], item[0][1] or 0)
    ):
        overall = metrics["headline"]["overall"]
        row = {"run": system if seed is None else f"{system}/seed{seed}", "system": system, "seed": seed}
        for name in PER_SEED_METRICS:
            row[name] = overall.get(name)
        rows.append(row)
    return rows


def write_csv(path: str | Path, rows: list[dict], columns: list[str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if row.get(key) is None else row[key] for key in columns})
    tmp.replace(path)
