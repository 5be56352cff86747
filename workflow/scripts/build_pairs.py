"""Rule build_pairs: preference pairs of docs/method.md §6 (`polyalign.preference.build_pairs`).

input:
    train    train-split records JSONL (results/corpus/train.jsonl)
    samples  generation JSONL of the starting policy on the train prompts: SFT samples for dpo,
             Bucket-SFT samples for hdpo, with num_samples = the system's `preference.num_samples`
    critic   critic bundle directory; an input only when the system's `critic` setting is true
             (hdpo by default; plain dpo neither reads it nor waits for it)
output:
    pairs    pairs JSONL (id, bucket_id, language, prompt fields, chosen, rejected, s_pos,
             s_neg, weight, ...)
    report   JSON: counts, drops by reason, critic and pair-weight statistics
params:
    system   "dpo" | "hdpo"; settings = preference_config(config, system)
log: one file. threads: torch threads of the critic.
"""
from polyalign.io import read_jsonl, write_json, write_jsonl
from polyalign.preference import build_pairs, critic_scorer, preference_config
from polyalign.workflow_io import rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    system = snakemake.params.system
    settings = preference_config(snakemake.params.settings, system)
    scorer, critic_buckets = None, None
    if settings["critic"]:
        from polyalign.critic import load_critic

        critic = load_critic(snakemake.input.critic)
        scorer, critic_buckets = critic_scorer(critic, settings["critic_batch_size"],
                                                        transform=settings["critic_transform"]), set(critic.buckets)
    pairs, report = build_pairs(read_jsonl(snakemake.input.train), read_jsonl(snakemake.input.samples), system,
                                settings, scorer, profile_length=snakemake.params.settings["profile_length"],
                                critic_buckets=critic_buckets)
    write_jsonl(snakemake.output.pairs, pairs)
    write_json(snakemake.output.report, report)
    log.info("%s: %d pairs from %d prompts; dropped %s; weight mean %.3f", system, report["pairs"],
             report["prompts"], report["dropped"], report["weights"]["mean"])
