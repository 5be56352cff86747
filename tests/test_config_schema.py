"""The one configuration layer: every shipped profile resolves, every block is closed, every key
is described and carries its default, and the library's typed settings agree with the schema."""

import copy
import dataclasses

import pytest
import yaml

from polyalign.config import (
    ConfigError,
    block_defaults,
    fill_defaults,
    load_schema,
    resolve_config,
    validate_schema,
)
from polyalign.config.schema import resolve_ref
from polyalign.methods import BLOCKS as METHOD_BLOCKS

from .conftest import REPO

PROFILES = ["config/config.yaml", "config/paper.yaml", "config/pilot.yaml", "tests/smoke/config.yaml"]


def load(name):
    return yaml.safe_load((REPO / name).read_text())


def local_paths(config):
    return [s["path"] for s in config["corpora"].values() if "path" in s]


@pytest.mark.parametrize("name", PROFILES)
def test_shipped_profiles_resolve(name, tmp_path, monkeypatch):
    config = load(name)
    # corpus paths must exist; give this profile's local paths an (empty) home
    monkeypatch.chdir(tmp_path)
    for path in local_paths(config):
        (tmp_path / path).mkdir(parents=True, exist_ok=True)
    resolved = resolve_config(config)
    assert resolved["profile"] == config.get("profile", "embedded")  # the embedded profile states no name
    assert resolved["corpora"] == config["corpora"]
    # defaults filled at every depth, explicit values kept
    assert resolved["evaluation"]["bootstrap"]["alpha"] == 0.05
    assert resolved["figures"]["tsne"]["perplexity"] == 30.0
    assert resolved["train_common"]["max_grad_norm"] == 1.0
    assert resolved["dpo"]["pair_weights"]["enabled"] is False


def deep_merge(base, top):
    """Snakemake's merge of a --configfile over the Snakefile's configfile (nested dicts merged)."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        out[key] = (
            deep_merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def test_micro_profile_merged_over_the_embedded_one_resolves():
    merged = deep_merge(load("config/config.yaml"), load("tests/smoke/config.yaml"))
    resolved = resolve_config(merged)
    assert resolved["profile"] == "micro" and resolved["model"]["hidden_size"] == 32
    assert (
        resolved["evaluation"]["bootstrap"]["n_resamples"] == 1000
    )  # the micro profile also resamples every metric 1000 times


def test_resolving_twice_changes_nothing():
    once = resolve_config(load("config/config.yaml"))
    assert resolve_config(copy.deepcopy(once)) == once


def test_explicit_values_win_over_defaults():
    config = load("config/config.yaml")
    config["evaluation"]["bootstrap"] = {"n_resamples": 7, "alpha": 0.1}
    resolved = resolve_config(config)
    assert resolved["evaluation"]["bootstrap"]["n_resamples"] == 7
    assert resolved["evaluation"]["bootstrap"]["alpha"] == 0.1
    assert resolved["evaluation"]["bootstrap"]["seed"] == 42  # default next to the explicit key


@pytest.mark.parametrize(
    "path",
    [
        ("figures", "tnse"),
        ("evaluation", "bootstrap", "n_resample"),
        ("evaluation", "mauve", "kmeans_redo"),
        ("bucket_sft", "tua"),
        ("replication", "published_modle"),
        ("figures", "tsne", "perplexty"),
        ("dpo", "pair_weights", "alpah"),
        ("corpora", "chatterbot", "languges"),
        ("model", "hiden_size"),
        ("trian_common",),
    ],
)
def test_misspelt_key_at_any_depth_is_rejected_naming_it(path):
    config = load("config/config.yaml")
    node = config
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = 1
    with pytest.raises(ConfigError) as err:
        resolve_config(config)
    assert ".".join(path) + ": unknown key" in str(err.value)


def walk(node, schema, path="config"):
    node = resolve_ref(node, schema)
    yield path, node
    for name, sub in (node.get("properties") or {}).items():
        yield from walk(sub, schema, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        yield from walk(node["additionalProperties"], schema, f"{path}.*")


# Maps keyed by names the user chooses (corpora, judges) and free-form keyword arguments.
OPEN_MAPS = (
    "config.corpora",
    "config.judge.models",
    "config.judge.models.*.chat_template_kwargs",
    "config.model_presets",
    "config.variants",  # user-named variants, each an open map of the config blocks it changes,
    "config.variants.*",  # checked key by key against the real blocks by polyalign.workflow.variants
    "config.variants.*.*",
    "config.generation.system_max_new_tokens",
)


def test_every_block_is_closed_and_every_key_described():
    schema = load_schema()
    for path, node in walk(schema, schema):
        assert node.get("description"), f"{path} has no description"
        if node.get("type") == "object" and path not in OPEN_MAPS:
            assert node.get("additionalProperties") is False, f"{path} is not closed"


# Blocks whose keys override another block on purpose carry no default for the inherited keys;
# corpus entries are passed to their loader, which documents its own choices; model presets are
# user-named maps whose keys are all given where they are written.
OVERRIDE_BLOCKS = (
    "config.pretrain.",
    "config.sft.",
    "config.bucket_sft.",
    "config.preference.",
    *(f"config.{block}." for block in METHOD_BLOCKS),  # a new method's block too (docs/extending.md)
    "config.corpora.",
    "config.judge.models.",
    "config.model_presets.",
    "config.variants.",
    "config.generation.system_max_new_tokens.",
)


def test_every_key_outside_override_blocks_has_a_default():
    schema = load_schema()
    for path, node in walk(schema, schema):
        if path == "config" or path.startswith(OVERRIDE_BLOCKS) or path == "config.corpora":
            continue
        assert "default" in node, f"{path} has no default"


def test_override_blocks_default_only_their_own_keys():
    assert block_defaults("pretrain") == {"lr": 3.0e-3, "epochs": 1, "micro_batch_size": 8}
    assert block_defaults("sft") == {"lr": 2.0e-3, "epochs": 1}
    assert block_defaults("hdpo") == {}
    assert block_defaults("dpo") == {
        "lam": 0.0,
        "gamma_sft": 0.0,
        "critic": False,
        "pair_weights": {"enabled": False},
        "language_balance": False,  # the paper's DPO; true = the balanced variant
    }


def typed_settings():
    from polyalign.critic.train import CriticSettings
    from polyalign.evaluation.settings import BootstrapSettings, DiversitySettings
    from polyalign.metrics.mauve_metrics import MauveSettings
    from polyalign.train.trainer import TrainConfig

    return [
        (TrainConfig, ("train_common",)),
        (CriticSettings, ("critic",)),
        (BootstrapSettings, ("evaluation", "bootstrap")),
        (DiversitySettings, ("evaluation", "diversity")),
        (MauveSettings, ("evaluation", "mauve")),
    ]


@pytest.mark.parametrize("index", range(5))
def test_typed_settings_mirror_the_schema(index):
    cls, block = typed_settings()[index]
    defaults = block_defaults(*block)
    names = {f.name for f in dataclasses.fields(cls)} - {
        "min_size"
    }  # MauveSettings.min_size = evaluation.min_bucket_size
    assert names == set(defaults)
    instance = cls()
    for name in names:
        value = getattr(instance, name)
        assert (list(value) if isinstance(value, tuple) else value) == defaults[name], name


def test_fill_defaults_leaves_its_input_alone():
    config = {"corpora": {"chitchat": {}}}
    filled = fill_defaults(config)
    assert config == {"corpora": {"chitchat": {}}}
    assert filled["model"]["source"] == "scratch"
    validate_schema(filled)
