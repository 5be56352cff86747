# Helpers shared by the rule files.

# One software environment for every rule (used with --software-deployment-method conda).
CONDA_ENV = "../../environment.yml"


def corpus_inputs(wildcards=None):
    """The fetched data manifest when the embedded corpus is used; nothing otherwise (paper
    scale reads the configured paths or hub ids directly)."""
    return ["data/MANIFEST.json"] if config["fetch"]["embedded"] else []


def corpus_params():
    return {
        "corpora": config["corpora"],
        "seed": config["seed"],
    }


def all_outputs():
    return [
        "results/corpus/train.jsonl",
        "results/corpus/val.jsonl",
        "results/corpus/test.jsonl",
        "results/corpus/bucket_stats.json",
        "paper_figures/table1_corpus_inventory.md",
        "paper_figures/table1_corpus_inventory.tex",
    ]
