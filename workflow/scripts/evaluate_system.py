"""Rule evaluate_system (one job per run seed and system): every metric's point estimate and the
per-prompt arrays the pooled bootstrap needs (docs/evaluation.md).

input:   test               results/corpus/test.jsonl
         generations        results/seed{seed}/generations/{system}/test.jsonl
         human_features     results/features/human_test.npz
         features           results/seed{seed}/features/{system}_test.npz
         references         results/references/references.json
         human_embeddings   results/embeddings/human.npz   (optional, with embeddings)
         embeddings         results/seed{seed}/embeddings/{system}.npz (optional; both absent = no MAUVE)
output:  metrics            results/metrics/seed{seed}/{system}.json
         resample           results/metrics/seed{seed}/{system}.resample.npz
params:  system, seed       the wildcards
         evaluation         the config's evaluation block without `bootstrap`
"""

from polyalign.evaluation.embeddings import load_embedding_table
from polyalign.evaluation.evaluate import evaluate_system
from polyalign.evaluation.replicates import save_resample_arrays
from polyalign.evaluation.settings import settings_from_config
from polyalign.evaluation.store import write_metrics
from polyalign.features.store import load_features
from polyalign.io import read_jsonl
from polyalign.references import load_references
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    inp, p = snakemake.input, snakemake.params
    settings = settings_from_config(dict(p.evaluation or {}))
    embeddings = [inp.get("human_embeddings"), inp.get("embeddings")]
    human_emb, gen_emb = (None, None) if None in embeddings else map(load_embedding_table, embeddings)
    seed = int(p.seed)
    result, arrays = evaluate_system(
        read_jsonl(inp.test),
        read_jsonl(inp.generations),
        load_features(inp.human_features),
        load_features(inp.features),
        load_references(inp.references),
        human_emb,
        gen_emb,
        settings,
        system=p.system,
        seed=seed,
    )
    write_metrics(snakemake.output.metrics, result)
    save_resample_arrays(snakemake.output.resample, arrays, p.system, seed)
    for scope, head in result["headline"].items():
        log.info(
            "%s seed %d %s: QA-F1 %.3f, BNG-macro %.3f, G-MAUVE %.3f, Aggregate %.3f, language fidelity %.3f",
            p.system,
            seed,
            scope,
            head["qa_f1"],
            head["bng_macro"],
            head["g_mauve"],
            head["aggregate"],
            head["language_fidelity"],
        )
