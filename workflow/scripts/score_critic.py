"""Rules critic_scores_human / critic_scores_system: critic scores of the human test answers or
of one system's test generations.

input:
    critic       critic bundle directory (rule train_critic)
    records      results/corpus/test.jsonl
    generations  optional: a system's test generations; without it the human answers are scored
output:
    scores       JSONL: id, bucket_id, score; rows that cannot be scored (empty generation, bucket
                 without reference) get score null and the reason in `invalid`
log: one file. threads: torch threads.
"""

from polyalign.critic import load_critic
from polyalign.features.extract import find_invalid_rows
from polyalign.io import read_jsonl, write_jsonl
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    records = read_jsonl(snakemake.input.records)
    by_id = {r["id"]: r for r in records}
    if "generations" in snakemake.input.keys():
        rows = [(by_id[g["id"]], g["answer"]) for g in read_jsonl(snakemake.input.generations)]
    else:
        rows = [(r, r["human_answer"]) for r in records]
    critic = load_critic(snakemake.input.critic)
    invalid = dict(find_invalid_rows([t for _, t in rows], [r["language"] for r, _ in rows]))
    known = set(critic.buckets)
    for i, (r, _) in enumerate(rows):
        if i not in invalid and r["bucket_id"] not in known:
            invalid[i] = "bucket has no reference (under min_bucket_size); the critic does not score it"
    keep = [i for i in range(len(rows)) if i not in invalid]
    scores = critic.score([rows[i][1] for i in keep], [rows[i][0]["bucket_id"] for i in keep])
    score_of = dict(zip(keep, scores))
    out = [
        {
            "id": r["id"],
            "bucket_id": r["bucket_id"],
            "score": float(score_of[i]) if i in score_of else None,
            "invalid": invalid.get(i),
        }
        for i, (r, _) in enumerate(rows)
    ]
    write_jsonl(snakemake.output.scores, out)
    log.info("%d scored, %d invalid", len(keep), len(invalid))
