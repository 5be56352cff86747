"""Rule build_pairs: preference pairs of docs/method.md §6 (`polyalign.preference.build_pairs`).

input:
    train    train-split records JSONL (results/corpus/train.jsonl; a variant with its own bucket key
             reads that key's, with its references and critic)
    samples  generation JSONL of the starting policy on the train prompts: SFT samples for dpo,
             Bucket-SFT samples for hdpo (drawn with each record's own length bin), with
             num_samples = the system's `preference.num_samples`; a variant's own start policy's
    companion  list: the policy samples of each companion (the other methods of the system's
             pairing group, polyalign.methods.companions, in that order; a variant starting from
             another policy counts its own method too): a prompt that gives one of them no pair
             is dropped here too, so DPO and HDPO (and their variants) train on the same prompts
    references  the train references: prompts of buckets without one are dropped (both systems)
    critic   critic bundle directory; an input only when the system's `critic` setting is true
             (hdpo by default; plain dpo neither reads it nor waits for it)
output:
    pairs    pairs JSONL (id, bucket_id, language, prompt fields, chosen, rejected, s_pos,
             s_neg, weight, ...)
    report   JSON: counts, drops by reason, critic and pair-weight statistics
params:
    system   a preference system (dpo | hdpo); settings = preference_settings(config, system)
    start_policy  optional: the model the samples come from, when not the method's own (an
             ablation variant, e.g. HDPO from SFT); the pairs get its prompt style
    companion_num_samples  k of each companion (same order as input companion)
log: one file. threads: torch threads of the critic.
"""

from polyalign import methods
from polyalign.io import read_jsonl, write_json, write_jsonl
from polyalign.preference import build_pairs, critic_scorer, preference_settings
from polyalign.preference.pairs import pair_profile_length
from polyalign.references import load_references
from polyalign.systems import method_of
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    system = snakemake.params.system
    start_policy = getattr(snakemake.params, "start_policy", None)
    settings = preference_settings(snakemake.params.settings, system)
    others = methods.companions(method_of(system), start_policy=start_policy)
    files = snakemake.input.companion if others else []
    files = [files] if isinstance(files, str) else list(files)
    if len(files) != len(others):
        raise ValueError(f"{system}: {len(files)} companion sample file(s) for companions {list(others)}")
    ks = snakemake.params.companion_num_samples
    if len(ks) != len(others):
        raise ValueError(f"{system}: {len(ks)} companion num_samples for companions {list(others)}")
    companions = [(read_jsonl(path), k) for path, k in zip(files, ks)]
    critic_buckets = set(load_references(snakemake.input.references)["buckets"])
    scorer = None
    if settings.critic:
        from polyalign.critic import load_critic

        critic = load_critic(snakemake.input.critic)
        scorer = critic_scorer(critic, settings.critic_batch_size, transform=settings.critic_transform)
        critic_buckets &= set(critic.buckets)
    pairs, report = build_pairs(
        read_jsonl(snakemake.input.train),
        read_jsonl(snakemake.input.samples),
        system,
        settings,
        scorer,
        critic_buckets=critic_buckets,
        companions=companions,
        profile_length=pair_profile_length(snakemake.params.settings["profile_length"]),
        start_policy=start_policy,
    )
    write_jsonl(snakemake.output.pairs, pairs)
    write_json(snakemake.output.report, report)
    log.info(
        "%s: %d pairs from %d prompts; dropped %s; weight mean %.3f (language balance %s: mass %s)",
        system,
        report["pairs"],
        report["prompts"],
        report["dropped"],
        report["weights"]["mean"],
        report["weights"]["language_balance"],
        {k: round(v["mass_share"], 3) for k, v in report["weights"]["by_language"].items()},
    )
