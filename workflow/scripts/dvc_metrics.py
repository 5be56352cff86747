"""Rule dvc_metrics: results/metrics/aggregate.json, {system: overall Aggregate}, the one file
`dvc metrics show` prints (one short row; the full numbers stay in headline.json)."""

import json

from polyalign.io import write_json
from polyalign.report.dvc_exports import aggregate_by_system
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    with open(snakemake.input.headline, encoding="utf-8") as f:
        table = aggregate_by_system(json.load(f))
    write_json(snakemake.output[0], table)
    log.info("aggregate per system: %s", table)
