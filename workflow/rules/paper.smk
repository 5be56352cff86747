# One rule per paper table or figure, named after it. Tables and the per-system summary figures
# pool all run seeds (results/metrics/summary.json); the figures that show individual responses
# (t-SNE, lengths, critic scores) show those of the first run seed (FIGURE_SEED).


rule table1_corpus_inventory:
    input:
        unpack(pretrain_manifest_input),
        train="results/corpus/train.jsonl",
        val="results/corpus/val.jsonl",
        test="results/corpus/test.jsonl",
        stats="results/corpus/bucket_stats.json",
    output:
        md=report(
            "paper_figures/table1_corpus_inventory.md",
            caption="../report/table1_corpus_inventory.rst",
            category="Tables",
        ),
        tex="paper_figures/table1_corpus_inventory.tex",
    log:
        "results/logs/table1_corpus_inventory.log",
    benchmark:
        "results/benchmarks/table1_corpus_inventory.tsv"
    localrule: True
    conda:
        CONDA_ENV
    script:
        "../scripts/table1_corpus_inventory.py"


rule table2_main_benchmark:
    input:
        summary="results/metrics/summary.json",
    output:
        md=report(
            "paper_figures/table2_main_benchmark.md",
            caption="../report/table2_main_benchmark.rst",
            category="Tables",
        ),
        tex="paper_figures/table2_main_benchmark.tex",
    log:
        "results/logs/table2_main_benchmark.log",
    benchmark:
        "results/benchmarks/table2_main_benchmark.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        systems=EVALUATED,
    script:
        "../scripts/table2_main_benchmark.py"


rule table2_per_seed:
    input:
        summary="results/metrics/summary.json",
    output:
        md=report(
            "paper_figures/table2_per_seed.md", caption="../report/table2_per_seed.rst", category="Tables"
        ),
        tex="paper_figures/table2_per_seed.tex",
    log:
        "results/logs/table2_per_seed.log",
    benchmark:
        "results/benchmarks/table2_per_seed.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        systems=EVALUATED,
    script:
        "../scripts/table2_per_seed.py"


rule figure_per_seed_metrics:
    input:
        summary="results/metrics/summary.json",
    output:
        png=report(
            "paper_figures/figure_per_seed_metrics.png",
            caption="../report/figure_per_seed_metrics.rst",
            category="Figures",
        ),
        pdf="paper_figures/figure_per_seed_metrics.pdf",
    log:
        "results/logs/figure_per_seed_metrics.log",
    benchmark:
        "results/benchmarks/figure_per_seed_metrics.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        systems=SYSTEMS,
        cjk_font=config["figures"]["cjk_font"],
    script:
        "../scripts/figure_per_seed_metrics.py"


rule table_per_bucket:
    input:
        summary="results/metrics/summary.json",
    output:
        md=report(
            "paper_figures/table_per_bucket.md", caption="../report/table_per_bucket.rst", category="Tables"
        ),
        tex="paper_figures/table_per_bucket.tex",
    log:
        "results/logs/table_per_bucket.log",
    benchmark:
        "results/benchmarks/table_per_bucket.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        systems=EVALUATED,
    script:
        "../scripts/table_per_bucket.py"


rule figure1_tsne:
    input:
        test="results/corpus/test.jsonl",
        human="results/embeddings/human.npz",
        systems=expand(
            "results/seed{seed}/embeddings/{system}.npz", seed=FIGURE_SEED, system=["base", "hdpo"]
        ),
    output:
        png=report("paper_figures/figure1_tsne.png", caption="../report/figure1_tsne.rst", category="Figures"),
        pdf="paper_figures/figure1_tsne.pdf",
    log:
        "results/logs/figure1_tsne.log",
    benchmark:
        "results/benchmarks/figure1_tsne.tsv"
    conda:
        CONDA_ENV
    params:
        systems=["base", "hdpo"],
        tsne=config["figures"]["tsne"],
        cjk_font=config["figures"]["cjk_font"],
    script:
        "../scripts/figure_tsne.py"


rule figure_bucket_inventory:
    input:
        stats="results/corpus/bucket_stats.json",
    output:
        png=report(
            "paper_figures/figure_bucket_inventory.png",
            caption="../report/figure_bucket_inventory.rst",
            category="Figures",
        ),
        pdf="paper_figures/figure_bucket_inventory.pdf",
    log:
        "results/logs/figure_bucket_inventory.log",
    benchmark:
        "results/benchmarks/figure_bucket_inventory.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        min_bucket_size=config["min_bucket_size"],
        cjk_font=config["figures"]["cjk_font"],
    script:
        "../scripts/figure_bucket_inventory.py"


rule figure_bng_heatmap:
    input:
        summary="results/metrics/summary.json",
    output:
        png=report(
            "paper_figures/figure_bng_heatmap.png",
            caption="../report/figure_bng_heatmap.rst",
            category="Figures",
        ),
        pdf="paper_figures/figure_bng_heatmap.pdf",
    log:
        "results/logs/figure_bng_heatmap.log",
    benchmark:
        "results/benchmarks/figure_bng_heatmap.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        systems=SYSTEMS,
        cjk_font=config["figures"]["cjk_font"],
    script:
        "../scripts/figure_bng_heatmap.py"


rule figure_nuf_frontier:
    input:
        summary="results/metrics/summary.json",
    output:
        png=report(
            "paper_figures/figure_nuf_frontier.png",
            caption="../report/figure_nuf_frontier.rst",
            category="Figures",
        ),
        pdf="paper_figures/figure_nuf_frontier.pdf",
    log:
        "results/logs/figure_nuf_frontier.log",
    benchmark:
        "results/benchmarks/figure_nuf_frontier.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        systems=SYSTEMS,
        cjk_font=config["figures"]["cjk_font"],
    script:
        "../scripts/figure_nuf_frontier.py"


rule figure_length_distributions:
    input:
        test="results/corpus/test.jsonl",
        generations=expand(
            "results/seed{seed}/generations/{system}/test.jsonl", seed=FIGURE_SEED, system=SYSTEMS
        ),
    output:
        png=report(
            "paper_figures/figure_length_distributions.png",
            caption="../report/figure_length_distributions.rst",
            category="Figures",
        ),
        pdf="paper_figures/figure_length_distributions.pdf",
    log:
        "results/logs/figure_length_distributions.log",
    benchmark:
        "results/benchmarks/figure_length_distributions.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        systems=SYSTEMS,
        min_bucket_size=config["evaluation"]["min_bucket_size"],
        sample_index=config["evaluation"]["sample_index"],
        cjk_font=config["figures"]["cjk_font"],
    script:
        "../scripts/figure_length_distributions.py"


rule figure_critic_scores:
    input:
        scores=expand(
            "results/seed{seed}/critic/scores/{name}.jsonl", seed=FIGURE_SEED, name=["human", *SYSTEMS]
        ),
    output:
        png=report(
            "paper_figures/figure_critic_scores.png",
            caption="../report/figure_critic_scores.rst",
            category="Figures",
        ),
        pdf="paper_figures/figure_critic_scores.pdf",
    log:
        "results/logs/figure_critic_scores.log",
    benchmark:
        "results/benchmarks/figure_critic_scores.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        labels=["human", *SYSTEMS],
        cjk_font=config["figures"]["cjk_font"],
    script:
        "../scripts/figure_critic_scores.py"


rule replication_report:
    input:
        summary="results/metrics/summary.json",
        replicates="results/metrics/bootstrap_replicates.npz",
        detectors=["results/detectors/summary.json"],
        detector_replicates=["results/detectors/ai_rate_replicates.npz"],
        judge="results/judge/table3_summary.json",
        human="results/human_eval/table8_summary.json",
        ablations=["results/metrics/ablations.json"] if VARIANTS else [],
    output:
        md=report("paper_figures/replication.md", caption="../report/replication.rst", category="Replication"),
    log:
        "results/logs/replication_report.log",
    benchmark:
        "results/benchmarks/replication_report.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        profile=config["profile"],
        published_model=config["replication"]["published_model"],
        noninferiority_margin_relative=config["replication"]["noninferiority_margin_relative"],
    script:
        "../scripts/replication_report.py"


rule table4_detectors:
    input:
        summary="results/detectors/summary.json",
        trained=expand("results/seed{seed}/detectors/trained/report.json", seed=SEEDS),
    output:
        md=report(
            "paper_figures/table4_detectors.md", caption="../report/table4_detectors.rst", category="Tables"
        ),
        tex="paper_figures/table4_detectors.tex",
    log:
        "results/logs/table4_detectors.log",
    benchmark:
        "results/benchmarks/table4_detectors.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        seeds=SEEDS,
    script:
        "../scripts/table4_detectors.py"


rule figure_detector_roc:
    input:
        zero_shot=expand("results/seed{seed}/detectors/zero_shot_scores.jsonl", seed=SEEDS),
        trained=expand("results/seed{seed}/detectors/trained_scores.jsonl", seed=SEEDS),
        test="results/corpus/test.jsonl",
    output:
        png=report(
            "paper_figures/figure_detector_roc.png",
            caption="../report/figure_detector_roc.rst",
            category="Figures",
        ),
        pdf="paper_figures/figure_detector_roc.pdf",
    log:
        "results/logs/figure_detector_roc.log",
    benchmark:
        "results/benchmarks/figure_detector_roc.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        seeds=SEEDS,
        systems=SYSTEMS,
        cjk_font=config["figures"]["cjk_font"],
    script:
        "../scripts/figure_detector_roc.py"


rule table3_llm_judge:
    input:
        records="results/corpus/test.jsonl",
        scores=[f"results/seed{r['seed']}/judge/{r['judge']}/{r['system']}.jsonl" for r in judge_runs()],
        summaries=[
            f"results/seed{r['seed']}/judge/{r['judge']}/{r['system']}_summary.json" for r in judge_runs()
        ],
    output:
        md=report(
            "paper_figures/table3_llm_judge.md", caption="../report/table3_llm_judge.rst", category="Tables"
        ),
        tex="paper_figures/table3_llm_judge.tex",
        summary="results/judge/table3_summary.json",
    log:
        "results/logs/table3_llm_judge.log",
    benchmark:
        "results/benchmarks/table3_llm_judge.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        runs=judge_runs(),
        systems=SYSTEMS,
        seeds=SEEDS,
        bootstrap={"n_resamples": config["judge"]["n_resamples"], "seed": config["seed"]},
        reason="No LLM judge is configured (judge.models is empty): the embedded profile has no "
        "instruction-tuned judge model offline, so no judge scores exist and only the published "
        "numbers are shown.",
    script:
        "../scripts/table3_llm_judge.py"


rule table8_human_eval:
    input:
        sheet_keys=expand(
            "results/human_eval/{language}/key.json", language=config["human_eval"]["languages"]
        ),
        ratings=[p for lang in config["human_eval"]["languages"] for p in returned_ratings(lang)],
    output:
        md=report(
            "paper_figures/table8_human_eval.md",
            caption="../report/table8_human_eval.rst",
            category="Tables",
        ),
        tex="paper_figures/table8_human_eval.tex",
        summary="results/human_eval/table8_summary.json",
    log:
        "results/logs/table8_human_eval.log",
    benchmark:
        "results/benchmarks/table8_human_eval.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        languages=config["human_eval"]["languages"],
        ratings_by_language={lang: returned_ratings(lang) for lang in config["human_eval"]["languages"]},
        systems=config["human_eval"]["systems"],
        bootstrap={"n_resamples": config["human_eval"]["n_resamples"], "seed": config["seed"]},
    script:
        "../scripts/table8_human_eval.py"


rule figure2_pipeline:
    input:
        snakefile=workflow_source("Snakefile"),
        rules=workflow_rule_files(),
    output:
        dot="results/pipeline/rulegraph.dot",
        png=report(
            "paper_figures/figure2_pipeline.png",
            caption="../report/figure2_pipeline.rst",
            category="Figures",
        ),
        pdf="paper_figures/figure2_pipeline.pdf",
    log:
        "results/logs/figure2_pipeline.log",
    benchmark:
        "results/benchmarks/figure2_pipeline.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        cjk_font=config["figures"]["cjk_font"],
    script:
        "../scripts/figure2_pipeline.py"


# Ablations (config `variants:`): each variant against its parent on Table 2's paired draws.
rule table_ablations:
    input:
        metrics=per_seed("results/metrics/seed{seed}/{system}.json", system=ablation_systems()),
        resample=per_seed("results/metrics/seed{seed}/{system}.resample.npz", system=ablation_systems()),
        # the floor baselines' per-seed points, not Table 2's summary: the table need not wait
        # for combine_metrics' bootstrap (both run at the end of the run, side by side)
        floors=per_seed("results/metrics/seed{seed}/{system}.json", system=FLOOR_BASELINES),
        zero_shot=expand("results/seed{seed}/detectors/zero_shot_scores.jsonl", seed=SEEDS),
        trained=expand("results/seed{seed}/detectors/trained_scores.jsonl", seed=SEEDS),
        val="results/corpus/val.jsonl",
        test="results/corpus/test.jsonl",
    output:
        md=report(
            "paper_figures/table_ablations.md", caption="../report/table_ablations.rst", category="Tables"
        ),
        tex="paper_figures/table_ablations.tex",
        json="results/metrics/ablations.json",
    log:
        "results/logs/table_ablations.log",
    benchmark:
        "results/benchmarks/table_ablations.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        variants={name: v.parent for name, v in VARIANTS.items()},
        labels=ablation_labels(),
        seeds=SEEDS,
        bootstrap=config["evaluation"]["bootstrap"],
        detectors=stage_settings("detectors"),
    script:
        "../scripts/table_ablations.py"


rule figure_ablations:
    input:
        ablations="results/metrics/ablations.json",
    output:
        png=report(
            "paper_figures/figure_ablations.png",
            caption="../report/figure_ablations.rst",
            category="Figures",
        ),
        pdf="paper_figures/figure_ablations.pdf",
    log:
        "results/logs/figure_ablations.log",
    benchmark:
        "results/benchmarks/figure_ablations.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        labels=ablation_labels(),
        cjk_font=config["figures"]["cjk_font"],
    script:
        "../scripts/figure_ablations.py"
