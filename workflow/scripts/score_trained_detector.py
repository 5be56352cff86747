"""Rule trained_detector_scores: the trained detector's log-odds of the validation and test human
answers and of every system's test outputs (rows as in detector_scores; invalid feature rows,
i.e. empty responses, get score None).

input:   model   results/detectors/trained/model.json
         human_val, human_test   results/features/human_{val,test}.npz
         systems  results/features/{system}_test.npz (params.systems order)
output:  scores  JSONL {detector: trained, system, split, id, sample, language, score}
log: one file.
"""

import math

from polyalign.detectors.trained import detector_logits
from polyalign.features.store import load_features
from polyalign.io import read_json, write_jsonl
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    model = read_json(snakemake.input.model)
    sets = [("human", "val", snakemake.input.human_val), ("human", "test", snakemake.input.human_test)]
    sets += [(s, "test", p) for s, p in zip(snakemake.params.systems, snakemake.input.systems)]
    rows = []
    for system, split, path in sets:
        table = load_features(path)
        for i, value in enumerate(detector_logits(model, table)):
            rows.append(
                {
                    "detector": "trained",
                    "system": system,
                    "split": split,
                    "id": str(table.ids[i]),
                    "sample": int(table.samples[i]),
                    "language": str(table.languages[i]),
                    "score": float(value) if math.isfinite(value) else None,
                }
            )
    write_jsonl(snakemake.output.scores, rows)
    log.info("trained detector: %d rows scored", len(rows))
