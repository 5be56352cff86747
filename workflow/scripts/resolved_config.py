"""Rule resolved_config: the run's configuration after profile selection, schema defaults and
model-preset resolution, as YAML (provenance; tests check each profile's merged config with it).

params:
    config   the whole config dict the workflow runs with
output:      results/config/resolved.yaml
log: one file.
"""

import yaml

from polyalign.io import write_text
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    config = dict(snakemake.params.config)
    write_text(snakemake.output[0], yaml.safe_dump(config, sort_keys=True, allow_unicode=True))
    log.info(
        "profile %s: %d corpora, model %s",
        config.get("profile"),
        len(config.get("corpora", {})),
        config.get("model", {}).get("source"),
    )
