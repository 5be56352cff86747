# LLM-as-a-judge scores (Table 3; every run seed, pooled by the table) and the blind
# human-evaluation sheets (Table 8; the first run seed's outputs).


rule judge_system:
    input:
        records="results/corpus/test.jsonl",
        generations="results/seed{seed}/generations/{system}/test.jsonl",
    output:
        scores="results/seed{seed}/judge/{judge}/{system}.jsonl",
        summary="results/seed{seed}/judge/{judge}/{system}_summary.json",
    log:
        "results/logs/seed{seed}/judge_system_{judge}_{system}.log",
    benchmark:
        "results/benchmarks/seed{seed}/judge_system_{judge}_{system}.tsv"
    wildcard_constraints:
        judge=wildcard_choice(JUDGES),
        system=wildcard_choice(SYSTEMS),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
    params:
        judge="{judge}",
        model=lambda wc: judge_model(wc.judge),
        settings=judge_settings(),
    script:
        "../scripts/judge_system.py"


rule human_eval_export:
    input:
        records="results/corpus/test.jsonl",
        generations=expand(
            "results/seed{seed}/generations/{system}/test.jsonl",
            seed=FIGURE_SEED,
            system=config["human_eval"]["systems"],
        ),
    output:
        page="results/human_eval/{language}/rating_page.html",
        sheet="results/human_eval/{language}/sheet.json",
        key="results/human_eval/{language}/key.json",
    log:
        "results/logs/human_eval_export_{language}.log",
    benchmark:
        "results/benchmarks/human_eval_export_{language}.tsv"
    wildcard_constraints:
        language="en|zh",
    localrule: True
    conda:
        CONDA_ENV
    params:
        language="{language}",
        systems=config["human_eval"]["systems"],
        n_prompts=config["human_eval"]["n_prompts"],
        seed=config["seed"],
        model_seed=FIGURE_SEED,  # raters see one run seed's outputs
    script:
        "../scripts/human_eval_export.py"
