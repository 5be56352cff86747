"""The typed settings of the model, prompt, generation and preference blocks: every field is a
schema key, the values of a resolved config are the schema's defaults, and a block that misses a
key (a config that skipped resolve_config) or has an unknown one fails naming the key."""

import dataclasses

import pytest

from polyalign.config import ConfigError, block_defaults, fill_defaults, load_schema
from polyalign.config.settings import settings_dict
from polyalign.generation.generate import GenerationSettings, generation_settings
from polyalign.models import ModelSettings, model_settings
from polyalign.preference.config import (
    PairWeightSettings,
    PreferenceSettings,
    preference_settings,
    train_keys,
)
from polyalign.prompts import PromptSettings, prompt_settings

# settings class, its block in the schema, and how it is built from a resolved config
BUILDERS = {
    ModelSettings: (("model",), lambda c: model_settings(c["model"])),
    PromptSettings: (("prompt",), prompt_settings),
    GenerationSettings: (("generation",), generation_settings),
    PreferenceSettings: (("preference",), lambda c: preference_settings(c, "hdpo")),
    PairWeightSettings: (
        ("preference", "pair_weights"),
        lambda c: preference_settings(c, "hdpo").pair_weights,
    ),
}


def schema_keys(*path):
    schema = load_schema()
    node = schema
    for part in path:
        node = node["properties"][part]
    return set(node["properties"])


def field_names(cls):
    return {f.name for f in dataclasses.fields(cls)}


@pytest.mark.parametrize("cls", list(BUILDERS), ids=lambda c: c.__name__)
def test_every_field_is_a_schema_key_and_carries_no_default(cls):
    path, _ = BUILDERS[cls]
    keys = schema_keys(*path)
    if cls is PreferenceSettings:  # the training-loop keys of the block go to TrainConfig
        keys -= set(train_keys())
    assert field_names(cls) == keys
    for f in dataclasses.fields(cls):
        assert f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, f.name


def test_a_resolved_empty_config_gives_the_schema_defaults():
    config = fill_defaults({})
    assert settings_dict(model_settings(config["model"])) == block_defaults("model")
    assert settings_dict(prompt_settings(config)) == block_defaults("prompt")
    assert settings_dict(generation_settings(config)) == block_defaults("generation")
    shared = {k: v for k, v in block_defaults("preference").items() if k not in train_keys()}
    assert settings_dict(preference_settings(config, "hdpo")) == shared
    # plain DPO: the dpo block's own defaults on top, pair_weights merged key by key
    dpo = settings_dict(preference_settings(config, "dpo"))
    assert dpo == {
        **shared,
        "lam": 0.0,
        "gamma_sft": 0.0,
        "critic": False,
        "language_balance": False,  # the paper's DPO
        "pair_weights": {**shared["pair_weights"], "enabled": False},
    }


def test_overrides_and_system_blocks_win():
    config = fill_defaults({"generation": {"num_samples": 2}, "hdpo": {"pair_weights": {"w_max": 2.5}}})
    assert generation_settings(config).num_samples == 2
    assert generation_settings(config, {"num_samples": 4}).num_samples == 4
    hdpo = preference_settings(config, "hdpo")
    assert hdpo.pair_weights.w_max == 2.5
    assert hdpo.pair_weights.w_min == block_defaults("preference")["pair_weights"]["w_min"]


def _drop(block: dict, path: tuple) -> dict:
    out = dict(block)
    if len(path) == 1:
        del out[path[0]]
    else:
        out[path[0]] = _drop(out[path[0]], path[1:])
    return out


MISSING_CASES = [
    *((("model", k),) for k in sorted(field_names(ModelSettings))),
    *((("prompt", k),) for k in sorted(field_names(PromptSettings))),
    *((("generation", k),) for k in sorted(field_names(GenerationSettings))),
    *((("preference", k),) for k in sorted(field_names(PreferenceSettings))),
    *((("preference", "pair_weights", k),) for k in sorted(field_names(PairWeightSettings))),
]


@pytest.mark.parametrize("path", [c[0] for c in MISSING_CASES], ids=".".join)
def test_a_missing_key_fails_naming_it(path):
    config = fill_defaults({})
    config[path[0]] = _drop(config[path[0]], path[1:])
    build = {
        "model": lambda c: model_settings(c["model"]),
        "prompt": prompt_settings,
        "generation": generation_settings,
        "preference": lambda c: preference_settings(c, "hdpo"),
    }[path[0]]
    named = f"{'hdpo' if path[0] == 'preference' else path[0]}.{'.'.join(path[1:])}"
    with pytest.raises(ConfigError, match=rf"{named}: missing"):
        build(config)


def test_an_unresolved_system_block_fails_naming_the_key():
    config = fill_defaults({})
    config["dpo"] = {}  # the schema's dpo defaults (λ = 0, no critic) would be lost silently
    with pytest.raises(ConfigError, match=r"dpo\.lam: missing"):
        preference_settings(config, "dpo")
    with pytest.raises(ConfigError, match="preference: missing"):
        preference_settings({"dpo": fill_defaults({})["dpo"]}, "dpo")


def test_an_unknown_key_fails_naming_it():
    config = fill_defaults({})
    with pytest.raises(ConfigError, match=r"prompt\.max_tokens: unknown key"):
        prompt_settings({**config, "prompt": {**config["prompt"], "max_tokens": 3}})
    with pytest.raises(ConfigError, match=r"model\.hiden_size: unknown key"):
        model_settings({**config["model"], "hiden_size": 3})
    with pytest.raises(ConfigError, match=r"generation\.seeds: unknown key"):
        generation_settings(config, {"seeds": [1]})


def test_settings_are_frozen_and_checked():
    config = fill_defaults({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        prompt_settings(config).max_prompt_tokens = 3
    with pytest.raises(ConfigError, match="temperature"):
        generation_settings(config, {"temperature": 0.0})
    with pytest.raises(ConfigError, match="length_check_quantile"):
        generation_settings(config, {"length_check_quantile": 1.5})
    with pytest.raises(ConfigError, match="critic_transform"):
        preference_settings({**config, "hdpo": {"critic_transform": "sqrt"}}, "hdpo")
    with pytest.raises(ConfigError, match="anchor_weighting"):
        preference_settings({**config, "hdpo": {"anchor_weighting": "per_language"}}, "hdpo")


def test_anchor_weighting_reaches_the_loss_keywords():
    from polyalign.preference.config import ANCHOR_WEIGHTINGS, loss_settings
    from polyalign.train.losses import ANCHOR_WEIGHTINGS as LOSS_CHOICES

    assert ANCHOR_WEIGHTINGS == LOSS_CHOICES
    config = fill_defaults({"hdpo": {"anchor_weighting": "pair_weights"}})
    shared = block_defaults("preference")  # HDPO's loss settings are the shared block's defaults
    assert loss_settings(preference_settings(config, "hdpo")) == {
        **{k: shared[k] for k in ("beta", "lam", "gamma_sft")},
        "anchor_weighting": "pair_weights",
    }
    # the default stays uniform, and DPO keeps its own (plain) block
    assert preference_settings(config, "dpo").anchor_weighting == "uniform"
    assert preference_settings(fill_defaults({}), "hdpo").anchor_weighting == "uniform"
