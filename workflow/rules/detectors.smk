# AI-text detectors (docs/detectors.md): zero-shot Fast-DetectGPT and Binoculars scores, the
# trained human-vs-model detector (train split only), per run seed on that seed's models and
# outputs; the Table 4 summary pools the seeds like Table 2.


rule detector_scores:
    input:
        val="results/corpus/val.jsonl",
        test="results/corpus/test.jsonl",
        # the ablation variants too (their AI rate is a column of the ablation table)
        generations=expand("results/seed{{seed}}/generations/{system}/test.jsonl", system=RUN_SYSTEMS),
        models=lambda w: [model_summary(m, int(w.seed)) for m in detector_run_models()],
    output:
        scores="results/seed{seed}/detectors/zero_shot_scores.jsonl",
        summary="results/seed{seed}/detectors/zero_shot_summary.json",
    log:
        "results/logs/seed{seed}/detector_scores.log",
    benchmark:
        "results/benchmarks/seed{seed}/detector_scores.tsv"
    conda:
        CONDA_ENV
    threads: 1  # tiny models: one thread, side by side with the evaluation jobs
    resources:
        gpu=1,
    params:
        systems=RUN_SYSTEMS,
        model_names=detector_run_models(),
        settings=stage_settings("detectors", "prompt"),
    script:
        "../scripts/score_detectors.py"


rule train_detector:
    input:
        train="results/corpus/train.jsonl",
        human="results/features/human_train.npz",
        samples=lambda wc: trained_detector_samples(wc.seed)[1],
    output:
        model="results/seed{seed}/detectors/trained/model.json",
        report="results/seed{seed}/detectors/trained/report.json",
    log:
        "results/logs/seed{seed}/train_detector.log",
    benchmark:
        "results/benchmarks/seed{seed}/train_detector.tsv"
    conda:
        CONDA_ENV
    params:
        sample_systems=lambda wc: trained_detector_samples(wc.seed)[0],
        seed=config["seed"],
        settings=stage_settings("detectors"),
    script:
        "../scripts/train_detector.py"


rule trained_detector_scores:
    input:
        model="results/seed{seed}/detectors/trained/model.json",
        human_val="results/features/human_val.npz",
        human_test="results/features/human_test.npz",
        systems=expand("results/seed{{seed}}/features/{system}_test.npz", system=RUN_SYSTEMS),
    output:
        scores="results/seed{seed}/detectors/trained_scores.jsonl",
    log:
        "results/logs/seed{seed}/trained_detector_scores.log",
    benchmark:
        "results/benchmarks/seed{seed}/trained_detector_scores.tsv"
    conda:
        CONDA_ENV
    params:
        systems=RUN_SYSTEMS,
    script:
        "../scripts/score_trained_detector.py"


rule detector_summary:
    input:
        zero_shot=expand("results/seed{seed}/detectors/zero_shot_scores.jsonl", seed=SEEDS),
        trained=expand("results/seed{seed}/detectors/trained_scores.jsonl", seed=SEEDS),
        zero_shot_summary=expand("results/seed{seed}/detectors/zero_shot_summary.json", seed=SEEDS),
        # each seed's own metrics, not the pooled summary: the detectors need only each seed's
        # Aggregate point (for Joint), so this runs beside combine_metrics' bootstrap
        metrics=per_seed("results/metrics/seed{seed}/{system}.json", system=SYSTEMS),
        val="results/corpus/val.jsonl",
        test="results/corpus/test.jsonl",
        generations=expand("results/seed{seed}/generations/{system}/test.jsonl", seed=SEEDS, system=SYSTEMS),
    output:
        summary="results/detectors/summary.json",
        replicates="results/detectors/ai_rate_replicates.npz",
    log:
        "results/logs/detector_summary.log",
    benchmark:
        "results/benchmarks/detector_summary.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        seeds=SEEDS,
        systems=SYSTEMS,
        white_box=detectors_white_box(),
        ancestor_models=detector_ancestor_models(),
        settings=stage_settings("detectors"),
        bootstrap=config["evaluation"]["bootstrap"],
    script:
        "../scripts/detector_summary.py"
