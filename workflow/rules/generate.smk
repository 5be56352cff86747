# Batched generation of every system on the full test split, and train-prompt samples of the
# SFT policies (the rejected side of preference pairs); once per run seed (seeded decoding). The
# independent detector pair's SFT samples the train prompts once (the trained detector's positives).


rule generate_test:
    input:
        records="results/corpus/test.jsonl",
        train="results/corpus/train.jsonl",
        model=lambda wc: model_summary(system_entry(wc.system).model, wc.seed),
    output:
        generations="results/seed{seed}/generations/{system}/test.jsonl",
        summary="results/seed{seed}/generations/{system}/test_summary.json",
    log:
        "results/logs/seed{seed}/generate_test_{system}.log",
    benchmark:
        "results/benchmarks/seed{seed}/generate_test_{system}.tsv"
    wildcard_constraints:
        system=one_of(RUN_SYSTEMS),
    conda:
        CONDA_ENV
    threads: 1  # the embedded models gain nothing from a second thread; two jobs run side by side
    resources:
        gpu=1,
    params:
        system=lambda wc: code_role(wc.system),
        style=lambda wc: system_entry(wc.system).prompt_style,
        profile_length=lambda wc: system_entry(wc.system).profile_length,
        settings=lambda wc: seeded_settings(
            wc.seed, "model", "generation", "prompt", "profile_length", system=wc.system
        ),
    script:
        "../scripts/generate.py"


rule generate_train_samples:
    input:
        records="results/corpus/train.jsonl",
        train="results/corpus/train.jsonl",
        model=lambda wc: model_summary(wc.system, wc.seed),
    output:
        generations="results/seed{seed}/generations/{system}/train_samples.jsonl",
        summary="results/seed{seed}/generations/{system}/train_samples_summary.json",
    log:
        "results/logs/seed{seed}/generate_train_samples_{system}.log",
    benchmark:
        "results/benchmarks/seed{seed}/generate_train_samples_{system}.tsv"
    wildcard_constraints:
        system=one_of(SAMPLE_POLICIES),
    priority: CRITICAL_PATH
    conda:
        CONDA_ENV
    threads: 1  # the embedded models gain nothing from a second thread; two jobs run side by side
    resources:
        gpu=1,
    params:
        system="{system}",
        num_samples=lambda wc: num_samples_for_policy(wc.system),
        # pairs carry the chosen answer's own length bin (profile systems; plain ones ignore it)
        profile_length=pair_profile_length(config.get("profile_length", "sampled")),
        settings=lambda wc: seeded_settings(wc.seed, "model", "generation", "prompt", "profile_length"),
    script:
        "../scripts/generate.py"


rule generate_detector_samples:
    input:
        records="results/corpus/train.jsonl",
        train="results/corpus/train.jsonl",
        model="results/models/detector_sft/train_summary.json",
    output:
        generations="results/generations/detector_sft/train_samples.jsonl",
        summary="results/generations/detector_sft/train_samples_summary.json",
    log:
        "results/logs/generate_detector_samples.log",
    benchmark:
        "results/benchmarks/generate_detector_samples.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
    params:
        system="sft",  # plain prompts, as the SFT system; generation.num_samples per prompt
        settings=independent_detector_settings("model", "generation", "prompt", "profile_length"),
    script:
        "../scripts/generate.py"
