"""Bounds and cross-field checks of the config, one test per violation class: each is rejected
before any job runs, with a message naming the key and the constraint it breaks."""

import shutil
import subprocess
import sys

import pytest
import yaml

from polyalign.config import ConfigError, resolve_config

from .conftest import REPO


def embedded():
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def rejected(config) -> str:
    with pytest.raises(ConfigError) as err:
        resolve_config(config)
    return str(err.value)


def set_key(config, dotted, value):
    *parents, last = dotted.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return config


# numeric bounds (schema): key, bad value, the constraint the message names
BOUNDS = [
    ("train_common.max_grad_norm", -1, "exclusiveMinimum 0"),
    ("train_common.max_grad_norm", 0, "exclusiveMinimum 0"),
    ("sft.lr", 0, "exclusiveMinimum 0"),
    ("pretrain.warmup_ratio", 1.5, "maximum 1"),
    ("evaluation.bootstrap.alpha", 5, "exclusiveMaximum 1"),
    ("evaluation.bootstrap.alpha", 0, "exclusiveMinimum 0"),
    ("generation.top_p", 1.2, "maximum 1"),
    ("generation.temperature", 0, "exclusiveMinimum 0"),
    ("critic.dropout", 1.0, "exclusiveMaximum 1"),
    ("critic.heldout_fraction", 0, "exclusiveMinimum 0"),
    ("bucket_sft.tau", 2, "maximum 1"),
    ("preference.beta", 0, "exclusiveMinimum 0"),
    ("hdpo.lam", -0.1, "minimum 0"),
    ("preference.pair_weights.alpha", -1, "minimum 0"),
    ("evaluation.mauve.kmeans_explained_var", 1.5, "maximum 1"),
    ("figures.tsne.perplexity", 0, "exclusiveMinimum 0"),
    ("min_bucket_size", 0, "minimum 1"),
    ("evaluation.min_bucket_size", 1, "minimum 2"),
    ("fetch.chitchat_conversations", 0, "minimum 1"),
]


@pytest.mark.parametrize("key,value,constraint", BOUNDS)
def test_numeric_bounds(key, value, constraint):
    message = rejected(set_key(embedded(), key, value))
    assert f"{key}: {value}" in message and constraint in message


def test_wrong_type_is_rejected():
    message = rejected(set_key(embedded(), "seed", "forty-two"))
    assert "seed: 'forty-two' is not of type 'integer'" in message


def test_length_thresholds_must_increase():
    message = rejected(set_key(embedded(), "length_thresholds", [10, 25, 25]))
    assert "length_thresholds: must be strictly increasing" in message and "[10, 25, 25]" in message


def test_split_weights_must_sum_to_one():
    config = embedded()
    config["corpora"]["chitchat"]["split_weights"] = {"train": 1.0, "val": 0.5, "test": 0.5}
    assert "corpora.chitchat.split_weights: must sum to 1, got 2" in rejected(config)


def test_split_weights_summing_to_one_pass():
    config = embedded()
    config["corpora"]["chitchat"]["split_weights"] = {"train": 0.7, "val": 0.2, "test": 0.1}
    resolve_config(config)


def test_heads_must_divide_hidden_size():
    config = set_key(embedded(), "model.num_heads", 5)
    assert "model.num_heads: must divide model.hidden_size, got 5 heads for hidden size 96" in rejected(
        config
    )
    config = set_key(embedded(), "model.num_kv_heads", 3)
    assert "model.num_kv_heads: must divide model.num_heads, got 3 for 4 heads" in rejected(config)


def test_scratch_positions_must_hold_the_cot_generation():
    # embedded: 96 prompt + 80 new + 64 CoT extra = 240 <= 256
    resolve_config(embedded())
    config = set_key(embedded(), "generation.cot_extra_tokens", 100)
    assert (
        "model.max_length: must hold prompt.max_prompt_tokens + generation.max_new_tokens + "
        "generation.cot_extra_tokens = 276, got 256"
    ) in rejected(config)


HUB_DETECTORS = {
    "fast_detectgpt": {"scoring_model": "org/det-instruct", "sampling_model": "org/det"},
    "binoculars": {"observer": "org/det", "performer": "org/det-instruct"},
    "trained": {"sample_models": ["sft"]},
}


def test_hub_models_skip_the_scratch_shape_check():
    config = set_key(embedded(), "model.source", "Qwen/Qwen2.5-1.5B")
    config["model"]["num_heads"] = 5
    config["detectors"] = HUB_DETECTORS
    resolve_config(config)


def test_the_independent_detector_pair_needs_a_scratch_base_and_its_own_seed():
    # with a hub base, detector_base would be a copy of the compared systems' ancestor
    message = rejected(set_key(embedded(), "model.source", "Qwen/Qwen2.5-1.5B"))
    assert (
        "detectors: detector_base, detector_sft (the independent pair) needs model.source scratch" in message
    )
    config = set_key(embedded(), "detectors.independent_seed", 1)
    config["seeds"] = [0, 1, 2]
    assert "detectors.independent_seed: must differ from every run seed, got 1" in rejected(config)


def test_unknown_corpus_key():
    config = embedded()
    config["corpora"]["chatterbott"] = {}
    message = rejected(config)
    assert "corpora.chatterbott: unknown corpus" in message and "chatterbot" in message


def test_local_corpus_path_must_exist(tmp_path):
    config = embedded()
    config["allow_external_paths"] = True  # tmp_path lies outside the project
    config["corpora"]["eli5"] = {"path": str(tmp_path / "missing")}
    assert f"corpora.eli5.path: '{tmp_path / 'missing'}' does not exist" in rejected(config)
    config["corpora"]["eli5"] = {"path": "data/paper/eli5_category"}
    assert "corpora.eli5.path: 'data/paper/eli5_category' does not exist" in rejected(config)
    (tmp_path / "there").mkdir()
    config["corpora"]["eli5"] = {"path": str(tmp_path / "there")}
    resolve_config(config)


def test_hub_ids_and_fetched_embedded_paths_are_accepted():
    config = embedded()
    config["corpora"]["dolly"] = {"path": "databricks/databricks-dolly-15k"}
    config["corpora"]["chatterbot"]["path"] = "data/not_yet_fetched"  # written by fetch_embedded_corpus
    resolve_config(config)
    set_key(config, "fetch.embedded", False)
    assert "corpora.chatterbot.path: 'data/not_yet_fetched' does not exist" in rejected(config)


@pytest.mark.parametrize("row", ["4", "ai.yml", "ai.yml:0", "ai.yml:x", ":4", "english/ai.yml:4 "])
def test_known_bad_rows_are_typed_exactly(row):
    config = embedded()
    config["corpora"]["chatterbot"]["known_bad_rows"] = [row]
    assert f"corpora.chatterbot.known_bad_rows.0: {row!r} is not of the form" in rejected(config)


def test_required_corpora():
    config = embedded()
    del config["corpora"]
    assert "'corpora' is a required property" in rejected(config)
    assert "corpora: {} should be non-empty" in rejected({**embedded(), "corpora": {}})


def test_bootstrap_has_one_resample_count():
    """Every metric gets the same resamples (pooled bootstrap): the old two-tier key is unknown,
    and a count below 1 is rejected."""
    config = set_key(embedded(), "evaluation.bootstrap.n_resamples_expensive", 10)
    assert "evaluation.bootstrap.n_resamples_expensive: unknown key" in rejected(config)
    config = set_key(embedded(), "evaluation.bootstrap.n_resamples", 0)
    assert "evaluation.bootstrap.n_resamples" in rejected(config)


def test_pair_weight_clip_is_ordered():
    config = set_key(embedded(), "hdpo.pair_weights", {"w_min": 4.0, "w_max": 3.0})
    assert "hdpo.pair_weights.w_min: must be <= w_max, got 4.0 > 3.0" in rejected(config)


def test_every_violation_is_reported_at_once():
    config = set_key(embedded(), "figures.tnse", {})
    set_key(config, "train_common.max_grad_norm", -1)
    message = rejected(config)
    assert "figures.tnse" in message and "train_common.max_grad_norm" in message


def copy_workflow(tmp_path):
    for part in ("workflow", "config"):
        shutil.copytree(REPO / part, tmp_path / part)
    return tmp_path


def merged(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = (
            merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def dry_run(workdir, *args):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "bad,expected",
    [
        ({"figures": {"tnse": {}}}, "figures.tnse: unknown key"),
        ({"evaluation": {"bootstrap": {"n_resample": 5}}}, "evaluation.bootstrap.n_resample: unknown key"),
        ({"train_common": {"max_grad_norm": -1}}, "train_common.max_grad_norm: -1"),
        ({"length_thresholds": [40, 25, 10]}, "length_thresholds: must be strictly increasing"),
    ],
)
def test_dry_run_fails_before_any_job(tmp_path, bad, expected):
    workdir = copy_workflow(tmp_path)
    # a --configfile replaces the embedded default (standalone profiles): start from it
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    (workdir / "bad.yaml").write_text(yaml.safe_dump(merged(config, bad)))
    result = dry_run(workdir, "--configfile", "bad.yaml")
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr
    assert "Building DAG of jobs" not in result.stdout + result.stderr
    assert not (workdir / "results").exists() and not (workdir / "data").exists()
