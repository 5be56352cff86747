# Human reference distributions (docs/method.md §3): features φ(y) and per-bucket references built
# from the train split only (and per bucket key of a variant that names its own: keydir).


rule features:
    input:
        unpack(lambda wc: response_inputs(wc.run, wc.source, wc.split)),
        model="results/models/base/train_summary.json",
    output:
        features="results/{run}features/{source}_{split}.npz",
        report="results/{run}features/{source}_{split}_report.json",
    log:
        "results/logs/{run}features_{source}_{split}.log",
    benchmark:
        "results/benchmarks/{run}features_{source}_{split}.tsv"
    wildcard_constraints:
        run=RUN_PREFIX,
        source=one_of(["human", *RUN_SYSTEMS, *BASELINES, *INDEPENDENT_MODELS]),
        split="train|val|train_samples",  # test: rule features_test (with the embeddings)
    priority: CRITICAL_PATH  # human train features and train-sample features feed the critic
    conda:
        CONDA_ENV
    threads: 1  # feature jobs run side by side
    resources:
        gpu=1,
    params:
        settings=stage_settings("features", "prompt", "model"),
    script:
        "../scripts/compute_features.py"


rule build_references:
    input:
        unpack(lambda wc: {"records": f"results/corpus/{wc.keydir}train.jsonl"} if wc.keydir else {}),
        features="results/features/human_train.npz",
    output:
        references="results/references/{keydir}references.json",
        summary="results/references/{keydir}summary.md",
        table="results/references/{keydir}summary.tsv",
    log:
        "results/logs/{keydir}build_references.log",
    benchmark:
        "results/benchmarks/{keydir}build_references.tsv"
    wildcard_constraints:
        keydir=KEY_DIR,
    priority: CRITICAL_PATH
    conda:
        CONDA_ENV
    params:
        min_bucket_size=config["min_bucket_size"],
    script:
        "../scripts/build_references.py"
