"""The preference-method registry (polyalign.methods): every list the workflow, the config
checks and the seeds used to spell out is derived from it, and a method's settings come from
its own config block, never from another method's."""

import pytest

from polyalign import methods, systems
from polyalign.config import ConfigError, fill_defaults
from polyalign.config.checks import check_pair_weight_clip
from polyalign.detectors.settings import RUN_MODELS
from polyalign.methods import Method
from polyalign.preference.config import method_settings, policy_num_samples, preference_settings
from polyalign.seeds import PER_SEED_TRAIN_BLOCKS


def test_derived_lists_equal_the_lists_they_replace():
    assert methods.METHODS == ("dpo", "hdpo") and methods.BLOCKS == ("dpo", "hdpo")
    assert systems.PREFERENCE_SYSTEMS == ("dpo", "hdpo")
    assert systems.SFT_MODELS == ("sft", "bucket_sft")
    assert systems.TRAINED_MODELS == ("sft", "bucket_sft", "dpo", "hdpo")  # DVC training curves
    assert RUN_MODELS == (
        "base",
        "sft",
        "bucket_sft",
        "dpo",
        "hdpo",
        "detector_base",
        "detector_sft",
    )  # detectors
    assert PER_SEED_TRAIN_BLOCKS == ("sft", "bucket_sft", "preference", "dpo", "hdpo")
    assert methods.start_policies() == systems.SAMPLE_POLICIES == ("sft", "bucket_sft")
    assert methods.companions("dpo") == ("hdpo",) and methods.companions("hdpo") == ("dpo",)
    # a variant starting from another policy keeps its own method's prompts too (docs/ablations.md)
    assert methods.companions("hdpo", start_policy="bucket_sft") == ("dpo",)
    assert methods.companions("hdpo", start_policy="sft") == ("dpo", "hdpo")
    assert methods.companions("dpo", start_policy="bucket_sft") == ("dpo", "hdpo")
    assert methods.starting_from("bucket_sft") == ("hdpo",)


def test_both_paper_methods_train_with_the_hdpo_loss():
    from polyalign.preference.train import method_pair_loss
    from polyalign.train.losses import hdpo_loss

    assert method_pair_loss("dpo") is method_pair_loss("hdpo") is hdpo_loss


def test_unknown_method_fails_naming_it():
    with pytest.raises(ValueError, match="unknown preference method 'kto'"):
        methods.get("kto")
    with pytest.raises(ValueError, match="unknown preference method 'kto'"):
        method_settings(fill_defaults({}), "kto")


def test_a_method_block_missing_from_the_config_fails_instead_of_borrowing_the_shared_block():
    config = fill_defaults({})
    del config["hdpo"]  # the kto failure of issue 20: a block left out must not read as {}
    with pytest.raises(ConfigError, match="hdpo: missing"):
        preference_settings(config, "hdpo")
    # with its block, DPO is plain whatever the shared block says
    dpo = preference_settings(fill_defaults({"preference": {"lam": 0.5}}), "dpo")
    assert (dpo.lam, dpo.gamma_sft, dpo.critic, dpo.pair_weights.enabled) == (0.0, 0.0, False, False)


def test_a_new_method_in_its_own_group_changes_no_existing_method_list():
    extra = Method("kto", loss="hdpo_loss", start_policy="sft", block="kto", group="kto")
    registry = {**methods.REGISTRY, "kto": extra}
    for name in ("dpo", "hdpo"):
        assert methods.companions(name, registry) == methods.companions(name)
    assert methods.starting_from("sft", registry) == ("dpo", "kto")  # it samples from sft too
    assert methods.group("kto", registry) == ("kto",) and methods.companions("kto", registry) == ()
    # joining the paper group makes it a companion of both
    joined = {**methods.REGISTRY, "kto": Method("kto", "hdpo_loss", "sft", "kto", "paper")}
    assert methods.companions("dpo", joined) == ("hdpo", "kto")


def test_registry_check_refuses_duplicates_and_unknown_start_policies():
    dpo = methods.REGISTRY["dpo"]
    with pytest.raises(AssertionError, match="duplicate block"):
        methods.check_registry([dpo, Method("x", "hdpo_loss", "sft", "dpo", "g")], systems.MODELS)
    with pytest.raises(AssertionError, match="start policy 'nope'"):
        methods.check_registry([Method("x", "hdpo_loss", "nope", "x", "g")], systems.MODELS)


def test_methods_sampling_one_policy_must_agree_on_num_samples(monkeypatch):
    config = fill_defaults({"preference": {"num_samples": 3}})
    assert policy_num_samples(config, "sft") == policy_num_samples(config, "bucket_sft") == 3
    monkeypatch.setitem(methods.REGISTRY, "hdpo", Method("hdpo", "hdpo_loss", "sft", "hdpo", "paper"))
    assert policy_num_samples(config, "sft") == 3
    config["dpo"]["num_samples"] = 2
    with pytest.raises(ConfigError, match="dpo.num_samples = 2, hdpo.num_samples = 3"):
        policy_num_samples(config, "sft")
    with pytest.raises(ValueError, match="no preference method starts from 'base'"):
        policy_num_samples(config, "base")


def test_pair_weight_clip_is_checked_in_every_method_block():
    config = {"hdpo": {"pair_weights": {"w_min": 2.0, "w_max": 1.0}}}
    assert check_pair_weight_clip(config) == ["hdpo.pair_weights.w_min: must be <= w_max, got 2.0 > 1.0"]


def test_the_entry_names_the_loss_train_preference_uses(monkeypatch):
    from polyalign.preference.train import method_pair_loss
    from polyalign.train import losses

    def toy_loss(*args, **kwargs):
        return losses.hdpo_loss(*args, **kwargs)

    monkeypatch.setattr(losses, "toy_loss", toy_loss, raising=False)
    monkeypatch.setitem(methods.REGISTRY, "dpo", Method("dpo", "toy_loss", "sft", "dpo", "paper"))
    assert method_pair_loss("dpo") is toy_loss
    monkeypatch.setitem(methods.REGISTRY, "dpo", Method("dpo", "no_such_loss", "sft", "dpo", "paper"))
    with pytest.raises(ValueError, match="'no_such_loss' is no function of polyalign.train.losses"):
        method_pair_loss("dpo")
