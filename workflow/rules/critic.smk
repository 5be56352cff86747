# The support critic c(y, b) ≈ D_b (docs/method.md §5) and its scores, once per run seed (the
# critic also once per bucket key of a variant that names its own: keydir).


rule train_critic:
    input:
        train="results/corpus/{keydir}train.jsonl",
        references="results/references/{keydir}references.json",
        human="results/features/human_train.npz",
        samples=expand(
            "results/seed{{seed}}/generations/{system}/train_samples.jsonl", system=SAMPLE_POLICIES
        ),
        sample_features=expand(
            "results/seed{{seed}}/features/{system}_train_samples.npz", system=SAMPLE_POLICIES
        ),
        model="results/models/base/train_summary.json",
    output:
        bundle=directory("results/seed{seed}/critic/{keydir}model"),
        report="results/seed{seed}/critic/{keydir}report.json",
    log:
        "results/logs/seed{seed}/{keydir}train_critic.log",
    benchmark:
        "results/benchmarks/seed{seed}/{keydir}train_critic.tsv"
    wildcard_constraints:
        keydir=KEY_DIR,
    priority: CRITICAL_PATH
    conda:
        CONDA_ENV
    threads: 1  # a small MLP: a second thread barely helps, and alone it left the other core idle
    resources:
        gpu=1,
    params:
        systems=SAMPLE_POLICIES,
        settings=lambda wc: seeded_settings(wc.seed, "critic"),
    script:
        "../scripts/train_critic.py"


rule critic_scores:
    input:
        unpack(
            lambda wc: response_inputs("" if wc.source == "human" else f"seed{wc.seed}/", wc.source, "test")
        ),
        critic="results/seed{seed}/critic/model",
    output:
        scores="results/seed{seed}/critic/scores/{source}.jsonl",
    log:
        "results/logs/seed{seed}/critic_scores_{source}.log",
    benchmark:
        "results/benchmarks/seed{seed}/critic_scores_{source}.tsv"
    wildcard_constraints:
        source=one_of(["human", *SYSTEMS]),
    conda:
        CONDA_ENV
    threads: 1  # short jobs: two side by side beat one on two threads
    resources:
        gpu=1,
    script:
        "../scripts/score_critic.py"
