"""Rule reference_logps: reference log-probs of a pair set under the frozen starting
checkpoint, cached once (`polyalign.preference.reference_cache.build_reference_cache`).

input:
    pairs    pairs JSONL of the system (rule build_pairs)
    model    the starting checkpoint (sft for dpo, bucket_sft for hdpo, a variant's own start
             policy): its train_summary.json or its directory
output:
    logps    JSONL, one row per pair id: ref_chosen, ref_rejected, chosen_tokens,
             rejected_tokens, token_hash
    summary  JSON: counts, timing, mean log-probs
params:
    system   a preference system of polyalign.systems (ref_batch_size and mixed precision come from its settings)
log: one file. threads: torch threads.
"""

from polyalign.io import read_jsonl, write_json
from polyalign.preference.reference_cache import build_reference_cache
from polyalign.workflow.io import model_dir, rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    summary = build_reference_cache(
        read_jsonl(snakemake.input.pairs),
        model_dir(snakemake.input.model),
        snakemake.params.settings,
        snakemake.params.system,
        snakemake.output.logps,
    )
    write_json(snakemake.output.summary, summary)
