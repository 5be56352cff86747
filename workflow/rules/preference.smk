# Preference optimisation (docs/method.md §6-7): pairs, cached reference log-probs, DPO and HDPO.


rule build_pairs:
    input:
        unpack(pairs_inputs),
    output:
        pairs="results/pairs/{system}.jsonl",
        report="results/pairs/{system}_report.json",
    params:
        system="{system}",
        settings=stage_settings("preference", "dpo", "hdpo", "profile_length"),
    priority: CRITICAL_PATH
    log:
        "results/logs/build_pairs_{system}.log",
    wildcard_constraints:
        system=one_of(PREFERENCE_SYSTEMS),
    threads: 1  # short jobs: two side by side beat one on two threads
    conda:
        CONDA_ENV
    script:
        "../scripts/build_pairs.py"


rule reference_logps:
    input:
        pairs="results/pairs/{system}.jsonl",
        model=lambda wc: model_summary(system_registry.start_policy(wc.system)),
    output:
        logps="results/pairs/{system}_reference_logps.jsonl",
        summary="results/pairs/{system}_reference_logps_summary.json",
    params:
        system="{system}",
        settings=stage_settings("model", "prompt", "profile_length", "preference", "dpo", "hdpo"),
    priority: CRITICAL_PATH
    log:
        "results/logs/reference_logps_{system}.log",
    wildcard_constraints:
        system=one_of(PREFERENCE_SYSTEMS),
    threads: 1
    resources:
        gpu=1,
    conda:
        CONDA_ENV
    script:
        "../scripts/reference_logps.py"


rule train_preference:
    input:
        pairs="results/pairs/{system}.jsonl",
        reference="results/pairs/{system}_reference_logps.jsonl",
        model=lambda wc: model_summary(system_registry.start_policy(wc.system)),
    output:
        summary="results/models/{system}/train_summary.json",
    params:
        system="{system}",
        settings=stage_settings("model", "prompt", "profile_length", "train_common", "preference", "dpo", "hdpo", "launch"),
    priority: CRITICAL_PATH
    log:
        "results/logs/train_preference_{system}.log",
    wildcard_constraints:
        system=one_of(PREFERENCE_SYSTEMS),
    threads: 1
    resources:
        gpu=1,
    conda:
        CONDA_ENV
    script:
        "../scripts/train_preference.py"
