import pytest
import torch

from polyalign.models import load_model, save_model
from polyalign.seeds import SEEDED_KEYS, run_seeds, seeded_config
from polyalign.train.sft import train_sft
from tests.models.micro import micro_model, micro_records, micro_settings, micro_tokenizer, one_thread  # noqa: F401 (fixture)
from tests.train.test_sft import CONFIG


def test_run_seeds_validates_the_list():
    assert run_seeds({"seeds": [0, 1, 2]}) == [0, 1, 2]
    for bad in ([], [1, 1], [-1], [0.5], "0", [True], None):
        with pytest.raises(ValueError, match="seeds"):
            run_seeds({"seeds": bad})


def test_a_config_may_not_set_a_seed_the_run_seeds_own():
    from polyalign.config import ConfigError, resolve_config
    from tests.test_config_schema import load

    config = load("config/config.yaml")
    resolve_config(config)  # the defaults (the library's) are fine
    for block in ("generation", "critic", "train_common"):
        with pytest.raises(ConfigError, match=rf"{block}\.seed: set by the run seeds"):
            resolve_config({**config, block: {**config.get(block, {}), "seed": 5}})
    with pytest.raises(ConfigError, match=r"hdpo\.seed: set by the run seeds"):
        resolve_config({**config, "hdpo": {"seed": 0}})
    resolve_config(
        {**config, "pretrain": {**config.get("pretrain", {}), "seed": 5}}
    )  # the BaseLM is built once


def test_seeded_config_sets_every_stochastic_stage_and_leaves_the_input_alone():
    config = {"train_common": {"seed": 9, "lr": 1.0}, "generation": {"top_p": 0.9}, "seed": 42}
    out = seeded_config(config, 3)
    assert out == {
        "train_common": {"seed": 3, "lr": 1.0},
        "generation": {"top_p": 0.9, "seed": 3},
        "critic": {"seed": 3},
        "seed": 42,
    }  # the data seed is not a run seed
    assert config["train_common"]["seed"] == 9 and "critic" not in config
    assert {block for block, _ in SEEDED_KEYS} == {"train_common", "generation", "critic"}
    with pytest.raises(ValueError):
        seeded_config(config, -1)


def test_each_stage_takes_the_run_seed():
    from polyalign.config import fill_defaults
    from polyalign.critic.train import CriticSettings
    from polyalign.generation.generate import generation_settings
    from polyalign.preference.config import preference_train_config
    from polyalign.train.sft import stage_train_config

    config = seeded_config(fill_defaults({"generation": {"seed": 0}, "critic": {"epochs": 2}}), 7)
    assert generation_settings(config).seed == 7
    assert CriticSettings(**config["critic"]).seed == 7
    assert stage_train_config(config, "sft").seed == 7
    assert stage_train_config(config, "bucket_sft").seed == 7
    assert preference_train_config(config, "dpo").seed == 7
    assert preference_train_config(config, "hdpo").seed == 7


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("base")
    tok = micro_tokenizer()
    save_model(micro_model(tok, max_length=192), tok, d)
    return d


def _sft_weights(base_dir, out_dir, seed):
    config = seeded_config(
        {**CONFIG, "train_common": {**CONFIG["train_common"], "micro_batch_size": 2}}, seed
    )
    train_sft(micro_records(), base_dir, config, out_dir, "sft", progress=False)
    model, _ = load_model(out_dir, micro_settings())
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@pytest.mark.slow  # three SFT runs
@pytest.mark.usefixtures("one_thread")
def test_the_run_seed_drives_sft(tmp_path, base_dir):
    w0 = _sft_weights(base_dir, tmp_path / "a", 0)
    w0_again = _sft_weights(base_dir, tmp_path / "b", 0)
    w1 = _sft_weights(base_dir, tmp_path / "c", 1)
    assert torch.equal(w0, w0_again)
    assert not torch.allclose(w0, w1)
