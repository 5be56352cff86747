"""Rule train_critic: the support critic c(y, b) ≈ D_b(φ(y)) on human train answers and model
samples of the same prompts (docs/method.md §5).

input:
    train          results/corpus/train.jsonl, or a variant's bucket key's
                   (results/corpus/bucket_key/{key}/train.jsonl): every row takes its record's bucket id
    references     results/references/references.json (or that key's)
    human          results/features/human_train.npz
    samples        list: generation JSONL files of the train prompts (sft, bucket_sft)
    sample_features list: their feature files, same order
    model          the frozen encoder: results/models/base/train_summary.json
output:
    bundle         directory: config.json (settings, metrics), buckets.json, head.safetensors
    report         JSON: rows per source, dropped rows by reason, target statistics, held-out metrics
params:
    systems        names of the sample sets, same order as `samples`
log: one file. threads: torch threads.
"""

from polyalign.critic import train_critic
from polyalign.critic.targets import critic_rows
from polyalign.features.store import load_features
from polyalign.io import read_jsonl, write_json
from polyalign.references import load_references
from polyalign.workflow.io import model_dir, rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    train = read_jsonl(snakemake.input.train)
    # every row takes its train record's bucket: another bucket key's for a variant's critic
    samples = [
        (name, read_jsonl(gens), load_features(feats).with_buckets(train))
        for name, gens, feats in zip(
            snakemake.params.systems, snakemake.input.samples, snakemake.input.sample_features
        )
    ]
    rows, report = critic_rows(
        train,
        load_features(snakemake.input.human).with_buckets(train),
        samples,
        load_references(snakemake.input.references),
    )
    config = train_critic(
        rows,
        snakemake.output.bundle,
        encoder_path=str(model_dir(snakemake.input.model)),
        settings=dict(snakemake.params.settings["critic"]),
    )
    report["metrics"] = config["metrics"]
    report["target_transform"] = snakemake.params.settings["critic"]["target_transform"]
    write_json(snakemake.output.report, report)
    for source, dist in report["target_distribution"].items():
        if dist:
            log.info(
                "D_b targets (%s, %d rows): median %.3g, mean %.3g, p90 %.3g, p99 %.3g, max %.3g, zero %.2f",
                source,
                dist["n"],
                dist["median"],
                dist["mean"],
                dist["p90"],
                dist["p99"],
                dist["max"],
                dist["share_zero"],
            )
    log.info("critic: %s", config["metrics"])
