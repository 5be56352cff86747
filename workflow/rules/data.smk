# Data stage: fetch the embedded corpus, build normalized records with splits and dedup, buckets.


# Its outputs are every file it writes (known before it runs), which build_corpus reads. They are
# flagged update(): Snakemake would otherwise delete them before the job, a user's edit with them,
# before the fetch can see it and refuse (it keeps them, and restores them if the job fails).
rule fetch_embedded_corpus:
    output:
        files=[update(f) for f in embedded_corpus_files()],
        manifest=update("results/corpus/fetch_manifest.json"),
    log:
        "results/logs/fetch_embedded_corpus.log",
    benchmark:
        "results/benchmarks/fetch_embedded_corpus.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        chitchat_conversations=config["fetch"]["chitchat_conversations"],
        seed=config["seed"],
        check_dvc_pin=config["fetch"]["check_dvc_pin"],
    script:
        "../scripts/fetch_embedded_corpus.py"


rule build_corpus:
    input:
        corpus_inputs,
    output:
        records="results/corpus/records.jsonl",
        dedup_report="results/corpus/dedup_report.json",
        build_log="results/corpus/build_log.json",
        drop_report="results/corpus/drop_report.json",
    log:
        "results/logs/build_corpus.log",
    benchmark:
        "results/benchmarks/build_corpus.tsv"
    conda:
        CONDA_ENV
    params:
        **corpus_params(),
    script:
        "../scripts/build_corpus.py"


rule assign_buckets:
    input:
        records="results/corpus/records.jsonl",
    output:
        train="results/corpus/train.jsonl",
        val="results/corpus/val.jsonl",
        test="results/corpus/test.jsonl",
        stats="results/corpus/bucket_stats.json",
    log:
        "results/logs/assign_buckets.log",
    benchmark:
        "results/benchmarks/assign_buckets.tsv"
    conda:
        CONDA_ENV
    params:
        length_thresholds=config["length_thresholds"],
        bucket_key=config["bucket_key"],
        min_bucket_size=config["min_bucket_size"],
        subsample=config["subsample"],
        seed=config["seed"],
    script:
        "../scripts/assign_buckets.py"


# A variant's own bucket key (config variants: bucket_key): the same records with its bucket ids.
rule rebucket_split:
    input:
        train="results/corpus/train.jsonl",
        val="results/corpus/val.jsonl",
        test="results/corpus/test.jsonl",
    output:
        train="results/corpus/bucket_key/{key}/train.jsonl",
        stats="results/corpus/bucket_key/{key}/bucket_stats.json",
    log:
        "results/logs/bucket_key/{key}/rebucket_split.log",
    benchmark:
        "results/benchmarks/bucket_key/{key}/rebucket_split.tsv"
    wildcard_constraints:
        key=wildcard_choice(BUCKET_KEYS),
    conda:
        CONDA_ENV
    params:
        bucket_key=lambda wc: BUCKET_KEYS[wc.key],
        min_bucket_size=config["min_bucket_size"],
    script:
        "../scripts/rebucket_split.py"


rule resolved_config:
    output:
        "results/config/resolved.yaml",
    log:
        "results/logs/resolved_config.log",
    benchmark:
        "results/benchmarks/resolved_config.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        config=config,
    script:
        "../scripts/resolved_config.py"


rule build_pretrain_text:
    input:
        unpack(pretrain_text_sources),
        records="results/corpus/records.jsonl",
    output:
        text="results/corpus/pretrain_text.jsonl",
        manifest="results/corpus/pretrain_text_manifest.json",
    log:
        "results/logs/build_pretrain_text.log",
    benchmark:
        "results/benchmarks/build_pretrain_text.tsv"
    conda:
        CONDA_ENV
    params:
        settings=config["pretrain_text"],
        seed=config["seed"],
    script:
        "../scripts/build_pretrain_text.py"
