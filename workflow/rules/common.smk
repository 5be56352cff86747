# Helpers shared by the rule files.

# One software environment for every rule (used with --software-deployment-method conda).
CONDA_ENV = "../../environment.yml"

# Scheduling priority of the chain BaseLM -> SFT/Bucket-SFT -> train samples -> critic -> pairs
# -> reference log-probs -> DPO/HDPO: with 2 cores, starting it before the evaluation of the
# early systems keeps the other core busy with those instead of leaving the chain for last.
CRITICAL_PATH = 10

# The systems compared (METHOD.md §8) and the model each one generates with.
PAPER_SYSTEMS = ["base", "cot", "sft", "bucket_sft", "dpo", "hdpo"]
# The optional oracle row (METHOD §8, config oracle_row): Bucket-SFT prompted with the gold length bin.
ORACLE_SYSTEMS = ["bucket_sft_gold"] if config.get("oracle_row", False) else []
SYSTEMS = PAPER_SYSTEMS + ORACLE_SYSTEMS
SYSTEM_MODEL = {"base": "base", "cot": "base", "sft": "sft", "bucket_sft": "bucket_sft", "dpo": "dpo", "hdpo": "hdpo"}
# Preference systems: the checkpoint each starts from, whose train-prompt samples are its negatives.
START_POLICY = {"dpo": "sft", "hdpo": "bucket_sft"}


def model_summary(name):
    """A model directory is represented in the DAG by its train_summary.json."""
    return f"results/models/{name}/train_summary.json"


def stage_settings(*blocks):
    """The config blocks a job reads, passed as params so that changing any of them reruns it."""
    return {block: config.get(block) for block in blocks}


def num_samples_for_policy(policy):
    """k samples per train prompt for the preference system that starts from `policy`."""
    from polyalign.preference.config import preference_config

    system = next(s for s, p in START_POLICY.items() if p == policy)
    return int(preference_config(config, system)["num_samples"])


def corpus_inputs(wildcards=None):
    """The fetched data manifest when the embedded corpus is used; nothing otherwise (paper
    scale reads the configured paths or hub ids directly)."""
    return ["data/MANIFEST.json"] if config["fetch"]["embedded"] else []


def corpus_params():
    return {
        "corpora": config["corpora"],
        "seed": config["seed"],
        "max_drop_rate": config["corpus_build"]["max_drop_rate"],
    }


def all_outputs():
    return [
        "results/config/resolved.yaml",
        "results/corpus/bucket_stats.json",
        "results/references/references.json",
        "results/critic/report.json",
        "results/metrics/summary.json",
        "results/metrics/headline.json",
        *[f"paper_figures/{name}.{ext}" for name in PAPER_TABLES for ext in ("md", "tex")],
        *[f"paper_figures/{name}.{ext}" for name in PAPER_FIGURES for ext in ("png", "pdf")],
        "paper_figures/replication.md",
    ]


PAPER_TABLES = ["table1_corpus_inventory", "table2_main_benchmark", "table_per_bucket"]
PAPER_FIGURES = ["figure1_tsne", "figure_bucket_inventory", "figure_bng_heatmap", "figure_nuf_frontier",
                 "figure_length_distributions", "figure_critic_scores"]
