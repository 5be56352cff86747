"""Rule detector_scores: Fast-DetectGPT and Binoculars scores of the human answers (validation
and test split) and of every system's test outputs, one pair of models at a time.

input:
    val, test    results/corpus/{val,test}.jsonl (prompts and human answers)
    generations  results/generations/{system}/test.jsonl, one per system (params.systems order)
    models       train_summary.json of this run's models that the detectors use (config detectors)
output:
    scores       JSONL {detector, system ("human" for human answers), split, id, sample,
                 language, score (None = empty response), n_tokens, p_ai (Fast-DetectGPT)}
    summary      JSON: counts, model names, seconds
params:
    systems      the systems, in the order of input.generations
    model_names  the run-model name of each input.models entry
log: one file. threads: torch threads.
"""

import time

from polyalign.detectors.scoring import score_items
from polyalign.detectors.settings import detector_config, model_pairs
from polyalign.io import read_jsonl, write_json, write_jsonl
from polyalign.workflow.io import model_dir, rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    t0 = time.time()
    cfg = detector_config(snakemake.params.settings)
    paths = {name: str(model_dir(p)) for name, p in zip(snakemake.params.model_names, snakemake.input.models)}
    records, items = {}, []
    for split in ("val", "test"):
        for r in read_jsonl(snakemake.input[split]):
            records[r["id"]] = r
            items.append(
                {"system": "human", "split": split, "id": r["id"], "sample": 0, "text": r["human_answer"]}
            )
    for system, path in zip(snakemake.params.systems, snakemake.input.generations):
        for g in read_jsonl(path):
            items.append(
                {
                    "system": system,
                    "split": "test",
                    "id": g["id"],
                    "sample": int(g.get("sample", 0)),
                    "text": g["answer"],
                }
            )
    rows = score_items(items, records, cfg, snakemake.params.settings, paths)
    write_jsonl(snakemake.output.scores, rows)
    summary = {
        "responses": len(items),
        "rows": len(rows),
        "empty": sum(r["score"] is None for r in rows) // 2,
        "pairs": {k: {**vars(v), "max_tokens": cfg[k]["max_tokens"]} for k, v in model_pairs(cfg).items()},
        "condition_on_prompt": cfg["condition_on_prompt"],
        "seconds": time.time() - t0,
    }
    write_json(snakemake.output.summary, summary)
    log.info("%d responses scored by two zero-shot detectors in %.1f s", len(items), summary["seconds"])
