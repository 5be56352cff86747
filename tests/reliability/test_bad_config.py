"""Bad-config classes (issue 26): each rejected by `resolve_config` (the Snakefile's first step)
with a message naming the key, or the file and line."""

from __future__ import annotations

import time

import pytest
import yaml

from polyalign import config as config_layer
from polyalign.config import ConfigError, resolve_config

from ..test_config_checks import embedded, rejected, set_key

NONFINITE = [
    ("sft.lr", float("inf")),
    ("sft.lr", float("nan")),
    ("train_common.max_grad_norm", float("nan")),
    ("preference.beta", float("-inf")),
    ("replication.noninferiority_margin_relative", float("nan")),
    ("preference.pair_weights.w_max", float("inf")),
]


@pytest.mark.parametrize("key,value", NONFINITE)
def test_nonfinite_number_in_config_is_rejected(key, value):
    """Class: NaN/inf in a numeric key (NaN passes every schema bound)."""
    message = rejected(set_key(embedded(), key, value))
    assert f"{key}: must be a finite number, got {value}" in message


def test_nonfinite_number_from_yaml_text_is_rejected(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("lr: .nan\n")
    config = embedded()
    config["sft"] = {**config.get("sft", {}), **config_layer.load_yaml_file(path)}
    assert "sft.lr: must be a finite number, got nan" in rejected(config)


def test_a_key_marked_nonfinite_in_the_schema_may_hold_inf():
    schema = {"type": "object", "properties": {"cap": {"type": "number", "x-nonfinite": True}, "lr": {}}}
    from polyalign.config.values import nonfinite_numbers

    assert nonfinite_numbers({"cap": float("inf"), "lr": float("inf")}, schema) == [
        "lr: must be a finite number, got inf"
    ]


def test_inherited_pair_weight_bounds_are_checked_after_inheritance():
    """Class: hdpo.pair_weights.w_min above the w_max it inherits from preference."""
    config = set_key(embedded(), "hdpo.pair_weights", {"w_min": 4.0})
    message = rejected(config)
    assert (
        "hdpo.pair_weights.w_min: must be <= w_max, got 4.0 > 3.0 (w_max inherited from preference" in message
    )
    config = set_key(embedded(), "dpo.pair_weights", {"w_max": 0.25})
    assert "dpo.pair_weights.w_min: must be <= w_max, got 0.5 > 0.25 (w_min inherited" in rejected(config)
    resolve_config(set_key(embedded(), "hdpo.pair_weights", {"w_min": 2.5}))


def test_unknown_human_eval_system_is_named():
    """Class: human_eval.systems naming no system of the run (failed as a missing input file)."""
    config = set_key(embedded(), "human_eval.systems", ["sft", "hdpo2"])
    assert "human_eval.systems.1: 'hdpo2' is not a system of this run" in rejected(config)
    config = set_key(embedded(), "human_eval.systems", ["sft", "bucket_sft_gold"])
    assert "human_eval.systems.1: 'bucket_sft_gold' is not a system of this run" in rejected(config)
    config["oracle_row"] = True
    resolve_config(config)
    config = set_key(embedded(), "human_eval.systems", ["sft", "dpo", "sft"])
    assert "human_eval.systems: each system is rated once, got sft twice" in rejected(config)


def test_malformed_yaml_names_file_and_line(tmp_path):
    """Class: malformed YAML (Snakemake says only "not valid JSON or YAML")."""
    path = tmp_path / "bad.yaml"
    path.write_text("seed: 1\nmodel:\n  hidden_size: 96\n   num_heads: 4\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:4:\d+: malformed YAML"):
        config_layer.load_yaml_file(path)
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="holds a mapping of keys, got list"):
        config_layer.load_yaml_file(path)


BOMB = """\
model:
  chat_template_kwargs:
    a: &a [x, x, x, x, x, x, x, x, x]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
    i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def test_alias_bomb_in_a_free_form_block_is_refused_quickly(tmp_path):
    """Class: YAML alias bomb under a free-form block (chat_template_kwargs: an 87 s dry run)."""
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    start = time.monotonic()
    with pytest.raises(ConfigError, match=r"bomb\.yaml: model\.chat_template_kwargs\.\w: holds more than"):
        config_layer.load_yaml_file(path)
    config = {**embedded(), "model": {**embedded().get("model", {}), **yaml.safe_load(BOMB)["model"]}}
    assert "model.chat_template_kwargs.e: holds more than 20000 values" in rejected(config)
    assert time.monotonic() - start < 2.0


def test_absolute_corpus_path_outside_the_project_needs_the_opt_in(tmp_path):
    """Class: an absolute path outside the project (corpora.chatterbot.path: /etc/ssl was read)."""
    config = set_key(embedded(), "corpora.chatterbot.path", "/etc/ssl")
    assert "corpora.chatterbot.path: '/etc/ssl' is outside the project" in rejected(config)
    assert "allow_external_paths: true" in rejected(config)
    config["allow_external_paths"] = True
    resolve_config(config)


def test_relative_path_climbing_out_of_the_project_is_refused():
    """Class: `../../etc` (passed, then failed late); refused even with the opt-in."""
    config = set_key(embedded(), "corpora.chitchat.path", "../../etc")
    config["allow_external_paths"] = True
    assert "corpora.chitchat.path: '../../etc' resolves to" in rejected(config)


@pytest.mark.parametrize(
    "key,value",
    [
        ("model.path", "./models/local-copy"),
        ("model.chat_template", "templates/chat.jinja"),
        ("embeddings.encoder", "./models/encoder"),
        ("figures.cjk_font", "fonts/NotoSansCJK.otf"),
        ("judge.models.local.path", "./models/judge"),
    ],
)
def test_missing_local_model_template_encoder_font_or_judge_is_found_at_dag_time(key, value):
    """Class: missing model, template, encoder, font or judge path (found only when a job ran)."""
    config = embedded()
    if key.startswith("judge."):
        config["judge"] = {"models": {"local": {"path": value}}}
    else:
        set_key(config, key, value)
    named = "model.path/model.source" if key == "model.path" else key
    assert f"{named}: {value!r} does not exist" in rejected(config)
