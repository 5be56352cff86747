# Preference optimisation (docs/method.md §6-7): pairs, cached reference log-probs, DPO and HDPO,
# once per run seed.


rule build_pairs:
    input:
        unpack(pairs_inputs),
    output:
        pairs="results/seed{seed}/pairs/{system}.jsonl",
        report="results/seed{seed}/pairs/{system}_report.json",
    log:
        "results/logs/seed{seed}/build_pairs_{system}.log",
    benchmark:
        "results/benchmarks/seed{seed}/build_pairs_{system}.tsv"
    wildcard_constraints:
        system=one_of(PAIR_BUILDERS),
    priority: CRITICAL_PATH
    conda:
        CONDA_ENV
    threads: 1  # short jobs: two side by side beat one on two threads
    params:
        system=lambda wc: code_role(wc.system),
        start_policy=lambda wc: system_entry(wc.system).start_policy,
        companion_num_samples=lambda wc: companion_num_samples(wc.system),
        settings=lambda wc: stage_settings(
            "preference", method_block(wc.system), "profile_length", system=wc.system
        ),
    script:
        "../scripts/build_pairs.py"


rule reference_logps:
    input:
        pairs="results/seed{seed}/pairs/{system}.jsonl",
        model=lambda wc: model_summary(system_entry(wc.system).start_policy, wc.seed),
    output:
        logps="results/seed{seed}/pairs/{system}_reference_logps.jsonl",
        summary="results/seed{seed}/pairs/{system}_reference_logps_summary.json",
    log:
        "results/logs/seed{seed}/reference_logps_{system}.log",
    benchmark:
        "results/benchmarks/seed{seed}/reference_logps_{system}.tsv"
    wildcard_constraints:
        system=one_of(PAIR_BUILDERS),
    priority: CRITICAL_PATH
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
    params:
        system=lambda wc: code_role(wc.system),
        settings=lambda wc: stage_settings(
            "model",
            "prompt",
            "profile_length",
            "train_common",
            "preference",
            method_block(wc.system),
            system=wc.system,
        ),
    script:
        "../scripts/reference_logps.py"


rule train_preference:
    input:
        pairs=lambda wc: f"results/seed{wc.seed}/pairs/{pairs_owner(wc.system)}.jsonl",
        reference=lambda wc: f"results/seed{wc.seed}/pairs/{pairs_owner(wc.system)}_reference_logps.jsonl",
        model=lambda wc: model_summary(system_entry(wc.system).start_policy, wc.seed),
    output:
        summary="results/seed{seed}/models/{system}/train_summary.json",
    log:
        "results/logs/seed{seed}/train_preference_{system}.log",
    benchmark:
        "results/benchmarks/seed{seed}/train_preference_{system}.tsv"
    wildcard_constraints:
        system=one_of(PREFERENCE_TRAINED),
    priority: CRITICAL_PATH
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
    params:
        system=lambda wc: code_role(wc.system),
        start_policy=lambda wc: system_entry(wc.system).start_policy,
        settings=lambda wc: seeded_settings(
            wc.seed,
            "model",
            "prompt",
            "profile_length",
            "train_common",
            "preference",
            method_block(wc.system),
            "launch",
            system=wc.system,
        ),
    script:
        "../scripts/train_preference.py"
