"""Rule evaluate_system (one job per system): every metric of docs/method.md §9 with bootstrap CIs.

input:   test               results/corpus/test.jsonl
         generations        results/generations/{system}/test.jsonl
         human_features     results/features/human_test.npz
         features           results/features/{system}_test.npz
         references         results/references/references.json
         human_embeddings   results/embeddings/human_test.npz   (optional, with embeddings)
         embeddings         results/embeddings/{system}.npz     (optional; both absent = no MAUVE)
output:  metrics            results/metrics/{system}.json
         bootstrap          results/metrics/{system}.bootstrap.json
params:  system             the system name (e.g. lambda wc: wc.system)
         evaluation         config["evaluation"] (docs/evaluation.md)
"""
from polyalign.evaluation import (evaluate_system, load_embedding_table, settings_from_config,
                                  write_metrics)
from polyalign.features.store import load_features
from polyalign.io import read_jsonl
from polyalign.references import load_references
from polyalign.workflow_io import rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    inp = snakemake.input
    settings = settings_from_config(dict(snakemake.params.evaluation or {}))
    embeddings = [inp.get("human_embeddings"), inp.get("embeddings")]
    human_emb, gen_emb = (None, None) if None in embeddings else map(load_embedding_table, embeddings)
    result = evaluate_system(
        read_jsonl(inp.test), read_jsonl(inp.generations), load_features(inp.human_features),
        load_features(inp.features), load_references(inp.references), human_emb, gen_emb,
        settings, system=snakemake.params.system)
    write_metrics(snakemake.output.metrics, snakemake.output.bootstrap, result)
    head = result["headline"]
    for scope in head:
        log.info("%s %s: QA-F1 %.3f, BNG-macro %.3f, G-MAUVE %.3f, Aggregate %.3f",
                 snakemake.params.system, scope, head[scope]["qa_f1"]["point"],
                 head[scope]["bng_macro"]["point"], head[scope]["g_mauve"]["point"],
                 head[scope]["aggregate"]["point"])
