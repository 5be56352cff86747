"""The `preference:` config block and the per-method overrides (`dpo:`, `hdpo:`, ...).

Resolution order for a preference system S with method M (polyalign.methods; its `block` B:
dpo | hdpo), later wins; every default is the config schema's:

    defaults of preference  <-  config.preference  <-  defaults of B  <-  config.B

The schema's `dpo` defaults keep DPO *plain* (λ = 0, γ_sft = 0, unit weights, no critic) whatever
the shared block says; only an explicit `dpo:` key can change that (an ablation). `pair_weights`
is merged one level deep. Training-loop keys (lr, epochs, max_steps, micro_batch_size, ...) live
in the same blocks and are split off into a `TrainConfig` on top of `train_common`, as for SFT.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, fields

from .. import methods
from ..config import ConfigError, defaulted_keys
from ..config.settings import settings_from_block
from ..systems import PREFERENCE_SYSTEMS as SYSTEMS
from ..systems import REGISTRY, method_of
from ..train.settings import TrainConfig

# The checkpoint each system starts from (and whose train-prompt samples are its negatives).
START_POLICY = {name: REGISTRY[name].start_policy for name in SYSTEMS}

LOSS_KEYS = ("beta", "lam", "gamma_sft")  # numbers; `anchor_weighting` is the one named option
# The choices of `anchor_weighting` (kept equal to train.losses.ANCHOR_WEIGHTINGS by a test;
# not imported from there: building pairs needs no torch).
ANCHOR_WEIGHTINGS = ("uniform", "pair_weights")
LAM_NORMALIZATIONS = ("gradient", "none")


@dataclass(frozen=True)
class PairWeightSettings:
    """`pair_weights`: the per-pair weight w(b, s, ℓ) of `train.weights.pair_weights`, clipped."""

    enabled: bool
    alpha: float
    beta_w: float
    gamma: float
    w_min: float
    w_max: float
    use_bucket: bool
    use_critic: bool
    use_language: bool


@dataclass(frozen=True)
class PreferenceSettings:
    """The pair and loss settings of one preference system (the resolved `preference:` block with
    the system's block on top); its training-loop keys go to `preference_train_config`."""

    beta: float
    lam: float
    lam_normalization: str  # gradient (lam relative to the DPO gradient at the start) | none
    gamma_sft: float
    anchor_weighting: str  # uniform | pair_weights
    critic: bool
    num_samples: int
    pair_weights: PairWeightSettings
    language_balance: bool
    ref_batch_size: int
    shared_prompt: bool  # one row per pair, the prompt once (train.logprobs.shared_prompt_batch)
    critic_batch_size: int
    critic_transform: str  # none | log1p

    def __post_init__(self):
        if not self.beta > 0:
            raise ConfigError(f"beta: must be > 0, got {self.beta}")
        for key in ("lam", "gamma_sft"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key}: must be >= 0, got {getattr(self, key)}")
        for key in ("critic", "language_balance", "shared_prompt"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"{key}: must be true or false, got {getattr(self, key)!r}")
        if self.anchor_weighting not in ANCHOR_WEIGHTINGS:
            raise ConfigError(
                f"anchor_weighting: must be one of {', '.join(ANCHOR_WEIGHTINGS)}, got {self.anchor_weighting!r}"
            )
        if self.lam_normalization not in LAM_NORMALIZATIONS:
            raise ConfigError(
                f"lam_normalization: must be one of {', '.join(LAM_NORMALIZATIONS)}, got {self.lam_normalization!r}"
            )
        if self.critic_transform not in ("none", "log1p"):
            raise ConfigError(f"critic_transform: must be none or log1p, got {self.critic_transform!r}")
        if int(self.num_samples) < 1:
            raise ConfigError(f"num_samples: must be >= 1, got {self.num_samples}")


def train_keys() -> tuple[str, ...]:
    """TrainConfig's fields."""
    return tuple(f.name for f in fields(TrainConfig))


def merged_block(config: dict, system: str) -> dict:
    """The resolved `preference:` block with the block of `system`'s method on top."""
    if system not in SYSTEMS:
        raise ValueError(f"preference system must be one of {SYSTEMS}, got {system!r}")
    return method_block(config, method_of(system))


def method_block(config: dict, method: str) -> dict:
    """The resolved `preference:` block with `method`'s block on top (`pair_weights` merged key
    by key). Both blocks must come from a resolved config: the method's block must be there and
    hold every key the schema gives it a default for (dpo's λ = 0, ...), else a plain DPO would
    silently train with HDPO's settings."""
    block = methods.get(method).block
    missing = [f"{block}.{k}" for k in defaulted_keys(block) if k not in (config.get(block) or {})]
    missing = [b for b in ("preference", block) if b not in config] or missing
    if missing:
        raise ConfigError(
            "\n  ".join(
                f"{w}: missing (resolve the config with polyalign.config.resolve_config)" for w in missing
            )
        )
    out = copy.deepcopy(dict(config["preference"] or {}))
    for key, value in (config[block] or {}).items():
        if key == "pair_weights":
            out["pair_weights"] = {**out.get("pair_weights", {}), **(value or {})}
        else:
            out[key] = copy.deepcopy(value)
    return out


def preference_settings(config: dict, system: str) -> PreferenceSettings:
    """The pair and loss settings of preference system `system` (dpo | hdpo) from a resolved config."""
    if system not in SYSTEMS:
        raise ValueError(f"preference system must be one of {SYSTEMS}, got {system!r}")
    return method_settings(config, method_of(system))


def method_settings(config: dict, method: str) -> PreferenceSettings:
    """The pair and loss settings of preference method `method` from a resolved config."""
    return _settings_of(method_block(config, method), method)


def _settings_of(block: dict, method: str) -> PreferenceSettings:
    """PreferenceSettings of a merged block (`method_block`)."""
    keys = train_keys()
    name = methods.get(method).block
    try:
        return settings_from_block(
            PreferenceSettings, {k: v for k, v in block.items() if k not in keys}, name
        )
    except ConfigError as e:
        raise ConfigError(f"{name} (preference block with the {name} block on top): {e}") from e


def policy_num_samples(config: dict, policy: str) -> int:
    """Samples per train prompt drawn from model `policy`: the num_samples of the methods that
    start from it, which must agree (each reads the first k samples of every prompt)."""
    starting = methods.starting_from(policy)
    if not starting:
        raise ValueError(
            f"no preference method starts from {policy!r} (start policies: {methods.start_policies()})"
        )
    ks = {m: int(method_settings(config, m).num_samples) for m in starting}
    if len(set(ks.values())) > 1:
        raise ConfigError(
            f"num_samples: the methods starting from {policy} draw from the same samples and must agree, got "
            + ", ".join(f"{methods.get(m).block}.num_samples = {k}" for m, k in ks.items())
        )
    return next(iter(ks.values()))


def loss_settings(cfg: PreferenceSettings) -> dict:
    """The keyword arguments of `train.preference_loss`."""
    return {**{k: float(getattr(cfg, k)) for k in LOSS_KEYS}, "anchor_weighting": cfg.anchor_weighting}


def preference_train_config(config: dict, system: str):
    """TrainConfig of the preference stage: the resolved train_common block, then the
    training-loop keys of the resolved preference block with `system`'s block on top."""
    return _train_config_of(config, merged_block(config, system))


def _train_config_of(config: dict, block: dict):
    """TrainConfig: the resolved train_common block, then the training keys of a merged block."""
    keys = train_keys()
    merged = dict(config["train_common"])
    merged.update({k: v for k, v in block.items() if k in keys})
    return TrainConfig.from_dict(merged)


@dataclass(frozen=True)
class PreferenceStage:
    """Everything one preference system's training or reference pass reads from the config,
    parsed once: its pair/loss settings, its TrainConfig and the model's sequence budget."""

    system: str
    settings: PreferenceSettings
    train: TrainConfig
    model_max_length: int


def preference_stage(config: dict, system: str) -> PreferenceStage:
    """The PreferenceStage of `system` from a resolved config (one parse of each block)."""
    from ..models.settings import model_settings

    block = merged_block(config, system)
    return PreferenceStage(
        system,
        _settings_of(block, method_of(system)),
        _train_config_of(config, block),
        model_settings(config.get("model")).max_length,
    )
