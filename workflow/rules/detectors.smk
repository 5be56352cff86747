# AI-text detectors (docs/detectors.md): zero-shot Fast-DetectGPT and Binoculars scores, the
# trained human-vs-model detector (train split only) and the Table 4 summary, on the first run
# seed's models and outputs (FIGURE_SEED).


rule detector_scores:
    input:
        val="results/corpus/val.jsonl",
        test="results/corpus/test.jsonl",
        generations=expand(
            "results/seed{seed}/generations/{system}/test.jsonl", seed=FIGURE_SEED, system=SYSTEMS
        ),
        models=[model_summary(m, FIGURE_SEED) for m in detector_run_models()],
    output:
        scores="results/detectors/zero_shot_scores.jsonl",
        summary="results/detectors/zero_shot_summary.json",
    log:
        "results/logs/detector_scores.log",
    conda:
        CONDA_ENV
    threads: 1  # tiny models: one thread, side by side with the evaluation jobs
    resources:
        gpu=1,
    params:
        systems=SYSTEMS,
        model_names=detector_run_models(),
        settings=stage_settings("detectors", "prompt"),
    script:
        "../scripts/score_detectors.py"


rule train_detector:
    input:
        train="results/corpus/train.jsonl",
        human="results/features/human_train.npz",
        samples=expand(
            "results/seed{seed}/features/{system}_train_samples.npz",
            seed=FIGURE_SEED,
            system=SAMPLE_POLICIES,
        ),
    output:
        model="results/detectors/trained/model.json",
        report="results/detectors/trained/report.json",
    log:
        "results/logs/train_detector.log",
    conda:
        CONDA_ENV
    params:
        sample_systems=SAMPLE_POLICIES,
        seed=config["seed"],
        settings=stage_settings("detectors"),
    script:
        "../scripts/train_detector.py"


rule trained_detector_scores:
    input:
        model="results/detectors/trained/model.json",
        human_val="results/features/human_val.npz",
        human_test="results/features/human_test.npz",
        systems=expand("results/seed{seed}/features/{system}_test.npz", seed=FIGURE_SEED, system=SYSTEMS),
    output:
        scores="results/detectors/trained_scores.jsonl",
    log:
        "results/logs/trained_detector_scores.log",
    conda:
        CONDA_ENV
    params:
        systems=SYSTEMS,
    script:
        "../scripts/score_trained_detector.py"


rule detector_summary:
    input:
        scores=["results/detectors/zero_shot_scores.jsonl", "results/detectors/trained_scores.jsonl"],
        zero_shot_summary="results/detectors/zero_shot_summary.json",
        metrics="results/metrics/summary.json",
        val="results/corpus/val.jsonl",
        test="results/corpus/test.jsonl",
    output:
        summary="results/detectors/summary.json",
        flags="results/detectors/flags.jsonl",
    log:
        "results/logs/detector_summary.log",
    conda:
        CONDA_ENV
    params:
        systems=SYSTEMS,
        white_box=detectors_white_box(),
        settings=stage_settings("detectors"),
    script:
        "../scripts/detector_summary.py"
