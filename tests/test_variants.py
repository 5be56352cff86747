"""Ablation variants (polyalign.workflow.variants): a parent system plus the settings it changes."""

import pytest

from polyalign import methods, systems
from polyalign.config import ConfigError, load_yaml_file, resolve_config
from polyalign.preference.config import preference_settings
from polyalign.workflow import variants

from .conftest import REPO


def embedded(**extra):
    return resolve_config({**load_yaml_file(REPO / "config" / "config.yaml"), **extra})


def flat(block, prefix=()):
    """{dotted key: value} of every leaf of a nested mapping (an empty mapping has none)."""
    if isinstance(block, dict):
        out = {}
        for k, v in block.items():
            out.update(flat(v, (*prefix, str(k))))
        return out
    return {".".join(prefix): block}


def changed_keys(config, name):
    parent, variant = (
        flat(dict(config, variants=None)),
        flat(dict(variants.variant_config(config, variants.parse_variants(config)[name]), variants=None)),
    )
    return {k for k in set(parent) | set(variant) if parent.get(k, "∅") != variant.get(k, "∅")}


VARIANTS = {
    "hdpo_no_critic": {"parent": "hdpo", "hdpo": {"lam": 0}},
    "hdpo_unit_weights": {"parent": "hdpo", "hdpo": {"pair_weights": {"enabled": False}}},
    "bucket_sft_flat": {"parent": "bucket_sft", "bucket_sft": {"tau": 0}},
    "hdpo_shared_lam": {"parent": "hdpo", "preference": {"beta": 0.2}},
}


def test_a_variant_differs_from_its_parent_only_in_the_keys_it_names():
    config = embedded(variants=VARIANTS)
    assert changed_keys(config, "hdpo_no_critic") == {"hdpo.lam"}
    assert changed_keys(config, "hdpo_unit_weights") == {"hdpo.pair_weights.enabled"}
    assert changed_keys(config, "bucket_sft_flat") == {"bucket_sft.tau"}
    assert changed_keys(config, "hdpo_shared_lam") == {"preference.beta"}
    # nested keys merge one by one: the other pair-weight keys stay the parent's
    merged = variants.variant_config(config, variants.parse_variants(config)["hdpo_unit_weights"])
    assert merged["preference"]["pair_weights"] == config["preference"]["pair_weights"]
    assert merged["hdpo"]["pair_weights"] == {"enabled": False}
    assert preference_settings(merged, "hdpo").pair_weights.enabled is False
    assert preference_settings(merged, "hdpo").lam == preference_settings(config, "hdpo").lam


def test_the_default_runs_hdpo_without_the_critic_term_and_bucket_sft_without_weights_or_profiles():
    config = embedded()
    found = variants.parse_variants(config)
    assert {n: v.parent for n, v in found.items()} == {
        "hdpo_no_critic": "hdpo",
        "bucket_sft_flat": "bucket_sft",
        "bucket_sft_plain": "bucket_sft",
    }
    plain = variants.variant_config(config, found["bucket_sft_plain"])
    assert plain["bucket_sft"]["profile_prompts"] is False and config["bucket_sft"]["profile_prompts"] is True
    assert plain["bucket_sft"]["tau"] == config["bucket_sft"]["tau"]  # bucket weights kept
    merged = variants.variant_config(config, found["hdpo_no_critic"])
    assert preference_settings(merged, "hdpo").lam == 0.0
    assert preference_settings(config, "hdpo").lam > 0
    flat = variants.variant_config(config, found["bucket_sft_flat"])
    assert flat["bucket_sft"]["tau"] == 0.0 and config["bucket_sft"]["tau"] > 0


def test_a_variant_is_a_system_with_its_own_model_and_its_parents_prompts_and_method():
    config = embedded(variants=VARIANTS)
    v = variants.parse_variants(config)
    assert (v["hdpo_no_critic"].system.model, v["hdpo_no_critic"].system.prompt_style) == (
        "hdpo_no_critic",
        "profile",
    )
    assert (
        v["hdpo_no_critic"].system.method == "hdpo"
        and v["hdpo_no_critic"].system.start_policy == "bucket_sft"
    )
    assert v["bucket_sft_flat"].system.method is None
    # bucket weights kept, profile prompts dropped: it trains and generates with plain prompts
    plain = embedded(variants={"plain": {"parent": "bucket_sft", "bucket_sft": {"profile_prompts": False}}})
    assert variants.parse_variants(plain)["plain"].system.prompt_style == "plain"
    assert v["bucket_sft_flat"].system.prompt_style == "profile"


HDPO_FROM_SFT = {"parent": "hdpo", "label": "HDPO from SFT (plain prompts)", "start_policy": "sft"}


def test_hdpo_from_sft_starts_from_sft_with_plain_prompts_and_owns_its_pairs():
    config = embedded(variants={**VARIANTS, "hdpo_from_sft": HDPO_FROM_SFT})
    found = variants.parse_variants(config)
    system = found["hdpo_from_sft"].system
    assert (system.model, system.method, system.start_policy, system.prompt_style) == (
        "hdpo_from_sft",
        "hdpo",
        "sft",
        "plain",
    )
    assert system.label == "HDPO from SFT (plain prompts)" and system.is_preference
    # the key is no config block: HDPO's loss and settings, its critic included, stay as they are
    merged = variants.variant_config(config, found["hdpo_from_sft"])
    assert merged == {k: v for k, v in config.items() if k != "variants"}
    assert preference_settings(merged, "hdpo") == preference_settings(config, "hdpo")
    assert preference_settings(merged, "hdpo").critic is True
    # other samples and another reference model: its own pairs, unlike a loss-only variant's
    assert variants.pairs_owner(config, found["hdpo_from_sft"]) == "hdpo_from_sft"
    assert variants.pairs_owner(config, found["hdpo_no_critic"]) == "hdpo"
    # it keeps the prompts its parent trains on: HDPO's own policy becomes a companion too
    assert methods.companions("hdpo", start_policy=system.start_policy) == ("dpo", "hdpo")
    # the registry's systems and the other variants keep theirs
    assert systems.get("hdpo").start_policy == "bucket_sft" and systems.prompt_style("hdpo") == "profile"
    assert found["hdpo_no_critic"].system.start_policy == "bucket_sft"
    assert found["hdpo_no_critic"].system.prompt_style == "profile"


KEY_VARIANTS = {
    "bucket_sft_no_length": {"parent": "bucket_sft", "bucket_key": ["language", "track", "family"]},
    "hdpo_no_family": {"parent": "hdpo", "bucket_key": ["language", "track", "length_bin"]},
}


def test_a_bucket_key_variant_keeps_its_parents_settings_and_prompts_and_buckets_by_its_key():
    config = embedded(variants={**VARIANTS, **KEY_VARIANTS})
    found = variants.parse_variants(config)
    assert found["bucket_sft_no_length"].bucket_key == ("language", "track", "family")
    assert variants.key_name(found["hdpo_no_family"].bucket_key) == "language-track-length_bin"
    # the key is its only change: the run's key is [language, track, family, length_bin]
    assert changed_keys(config, "bucket_sft_no_length") == {"bucket_key"}
    assert changed_keys(config, "hdpo_no_family") == {"bucket_key"}
    merged = variants.variant_config(config, found["hdpo_no_family"])
    assert merged["bucket_key"] == ["language", "track", "length_bin"]
    assert config["bucket_key"] == ["language", "track", "family", "length_bin"]
    # its parent's method, start policy and profile prompts
    system = found["hdpo_no_family"].system
    assert (system.method, system.start_policy, system.prompt_style) == ("hdpo", "bucket_sft", "profile")
    assert found["bucket_sft_no_length"].system.prompt_style == "profile"
    # other references, critic and pair weights: its own pairs
    assert variants.pairs_owner(config, found["hdpo_no_family"]) == "hdpo_no_family"
    assert found["hdpo_no_critic"].bucket_key is None


def test_a_start_policy_drawn_with_other_num_samples_is_refused():
    # SFT's samples are drawn for DPO (k = dpo.num_samples); HDPO's pairs would read 3 of them
    with pytest.raises(
        ConfigError, match=r"variants\.v\.start_policy: hdpo's pairs read 3 samples per prompt but sft's"
    ):
        embedded(hdpo={"num_samples": 3}, variants={"v": HDPO_FROM_SFT})


def test_the_runs_own_bucket_sft_keeps_its_profile_prompts():
    with pytest.raises(
        ConfigError, match=r"bucket_sft\.profile_prompts: false would train the run's Bucket-SFT"
    ):
        embedded(bucket_sft={"profile_prompts": False})


def test_a_variant_of_a_variant_is_refused():
    chained = {**VARIANTS, "chained": {"parent": "hdpo_no_critic", "hdpo": {"gamma_sft": 0}}}
    with pytest.raises(ConfigError, match=r"variants\.chained\.parent: 'hdpo_no_critic' is itself a variant"):
        embedded(variants=chained)
    rekeyed = {**KEY_VARIANTS, "chained": {"parent": "hdpo_no_family", "bucket_key": ["language"]}}
    with pytest.raises(ConfigError, match=r"variants\.chained\.parent: 'hdpo_no_family' is itself a variant"):
        embedded(variants=rekeyed)


@pytest.mark.parametrize(
    "entry,message",
    [
        ({"parent": "cot", "sft": {"lr": 0.1}}, r"variants\.v\.parent: 'cot' is not a trained system"),
        (
            {"parent": "hdpo", "dpo": {"lam": 0.3}},
            r"variants\.v\.dpo: a variant of hdpo may change only preference, hdpo",
        ),
        (
            {"parent": "sft", "bucket_sft": {"tau": 0}},
            r"variants\.v\.bucket_sft: a variant of sft may change only sft",
        ),
        ({"parent": "hdpo", "hdpo": {"lamda": 0}}, r"(?s)variants\.v: .*hdpo\.lamda: unknown key"),
        (
            {"parent": "hdpo", "hdpo": {"lam": -1}},
            r"(?s)variants\.v: .*hdpo\.lam: -1 is less than the minimum",
        ),
        (
            {"parent": "hdpo", "hdpo": {"num_samples": 2}},
            r"variants\.v\.hdpo\.num_samples: .*share its samples",
        ),
        ({"parent": "hdpo"}, r"variants\.v: changes no setting of 'hdpo'"),
        (
            {"parent": "bucket_sft", "start_policy": "sft"},
            r"variants\.v\.start_policy: bucket_sft is no preference system",
        ),
        (
            {"parent": "hdpo", "start_policy": "base"},
            r"variants\.v\.start_policy: 'base' is not a start policy \(those are sft, bucket_sft:",
        ),
        (
            {"parent": "hdpo", "start_policy": "bucket_sft"},
            r"variants\.v\.start_policy: 'bucket_sft' is hdpo's own start policy; the variant changes nothing",
        ),
        (
            {"parent": "dpo", "start_policy": "sft", "dpo": {"beta": 0.2}},
            r"variants\.v\.start_policy: 'sft' is dpo's own start policy",
        ),
        # the dpo block overrides the shared one: a shared-block change never reaches DPO
        ({"parent": "dpo", "preference": {"lam": 0.5}}, r"variants\.v\.preference\.lam: .*changes nothing"),
        (
            {"parent": "bucket_sft", "bucket_sft": {"tau": 1.0}},
            r"variants\.v\.bucket_sft\.tau: .*changes nothing",
        ),
        # a bucket key: only where the training reads buckets, valid, language first, a change
        (
            {"parent": "sft", "bucket_key": ["language", "track"]},
            r"variants\.v\.bucket_key: sft's training reads no buckets; only a variant of bucket_sft or hdpo",
        ),
        ({"parent": "dpo", "bucket_key": ["language", "track"]}, r"variants\.v\.bucket_key: dpo's training"),
        (
            {"parent": "hdpo", "bucket_key": ["language", "track", "family", "length_bin"]},
            r"variants\.v\.bucket_key: .* is the run's own bucket key; the variant changes nothing",
        ),
        ({"parent": "hdpo", "bucket_key": ["language", "colour"]}, r"(?s)variants\.v\.bucket_key.*colour"),
        (
            {"parent": "hdpo", "bucket_key": ["track", "language"]},
            r"variants\.v\.bucket_key: .*must start with language",
        ),
        (
            {"parent": "bucket_sft", "bucket_key": ["language", "track"], "bucket_sft": {"tau": 0}},
            r"variants\.v\.bucket_key: with tau 0 Bucket-SFT weighs no bucket",
        ),
    ],
)
def test_a_variant_that_cannot_mean_what_it_says_is_refused_naming_it(entry, message):
    with pytest.raises(ConfigError, match=message):
        embedded(variants={"v": entry})


def test_a_registry_name_is_not_a_variant_name():
    with pytest.raises(ConfigError, match=r"variants\.dpo: 'dpo' is a system of the registry"):
        embedded(variants={"dpo": {"parent": "hdpo", "hdpo": {"lam": 0}}})


def test_a_variant_that_changes_only_the_loss_trains_on_its_parents_pairs():
    config = embedded(
        variants={
            **VARIANTS,
            "hdpo_unbalanced": {"parent": "hdpo", "hdpo": {"language_balance": False}},
        }
    )
    found = variants.parse_variants(config)
    assert variants.pairs_owner(config, found["hdpo_no_critic"]) == "hdpo"
    assert variants.pairs_owner(config, found["hdpo_shared_lam"]) == "hdpo"  # beta: a loss key
    assert variants.pairs_owner(config, found["hdpo_unit_weights"]) == "hdpo_unit_weights"
    assert variants.pairs_owner(config, found["hdpo_unbalanced"]) == "hdpo_unbalanced"
    with pytest.raises(ValueError, match="trains on no pairs"):
        variants.pairs_owner(config, found["bucket_sft_flat"])


def test_the_ablation_profile_is_the_embedded_default_plus_its_variants():
    embedded_profile = load_yaml_file(REPO / "config" / "config.yaml")
    ablations = load_yaml_file(REPO / "config" / "ablations.yaml")
    assert {k: v for k, v in ablations.items() if k != "variants"} == embedded_profile
    found = variants.parse_variants(resolve_config(ablations))
    assert {v.parent for v in found.values()} == {"hdpo", "bucket_sft", "dpo"}
    assert found["hdpo_from_sft"].system.start_policy == "sft"
    assert {n: v.bucket_key for n, v in found.items() if v.bucket_key} == {
        "bucket_sft_no_length": ("language", "track", "family"),
        "hdpo_no_family": ("language", "track", "length_bin"),
    }
