"""The `preference:` config block and its per-system overrides (`dpo:`, `hdpo:`).

Resolution order for system S (dpo | hdpo), later wins; every default is the config schema's:

    defaults of preference  <-  config.preference  <-  defaults of S  <-  config.S

The schema's `dpo` defaults keep DPO *plain* (λ = 0, γ_sft = 0, unit weights, no critic) whatever
the shared block says; only an explicit `dpo:` key can change that (an ablation). `pair_weights`
is merged one level deep. Training-loop keys (lr, epochs, max_steps, micro_batch_size, ...) live
in the same blocks and are split off into a `TrainConfig` on top of `train_common`, as for SFT.
"""

from __future__ import annotations

import copy
from dataclasses import fields

from ..config import block_defaults
from ..systems import PREFERENCE_SYSTEMS as SYSTEMS
from ..systems import REGISTRY

# The checkpoint each system starts from (and whose train-prompt samples are its negatives).
START_POLICY = {name: REGISTRY[name].start_policy for name in SYSTEMS}

LOSS_KEYS = ("beta", "lam", "gamma_sft")


def train_keys() -> tuple[str, ...]:
    """TrainConfig's fields (imported on use: building pairs needs no torch)."""
    from ..train.trainer import TrainConfig

    return tuple(f.name for f in fields(TrainConfig))


def _known_keys() -> tuple[set, set]:
    block = block_defaults("preference")
    return set(block) | set(train_keys()), set(block["pair_weights"])


def _merge(base: dict, top: dict | None, where: str) -> dict:
    known, pair_known = _known_keys()
    out = copy.deepcopy(base)
    for key, value in (top or {}).items():
        if key not in known:
            raise ValueError(f"{where}: unknown key {key!r} (known: {sorted(known)})")
        if key == "pair_weights":
            unknown = set(value or {}) - pair_known
            if unknown:
                raise ValueError(
                    f"{where}.pair_weights: unknown key(s) {sorted(unknown)} (known: {sorted(pair_known)})"
                )
            out["pair_weights"] = {**out.get("pair_weights", {}), **(value or {})}
        else:
            out[key] = copy.deepcopy(value)
    return out


def preference_config(config: dict, system: str) -> dict:
    """The resolved preference settings of `system` (pair, loss and training-loop keys)."""
    if system not in SYSTEMS:
        raise ValueError(f"preference system must be one of {SYSTEMS}, got {system!r}")
    cfg = _merge(block_defaults("preference"), config.get("preference"), "preference")
    cfg = _merge(cfg, block_defaults(system), f"schema defaults of {system}")
    cfg = _merge(cfg, config.get(system), system)
    if not cfg["beta"] > 0:
        raise ValueError(f"{system}: beta must be > 0, got {cfg['beta']}")
    for key in ("lam", "gamma_sft"):
        if cfg[key] < 0:
            raise ValueError(f"{system}: {key} must be >= 0, got {cfg[key]}")
    for key in ("critic", "language_balance"):
        if not isinstance(cfg[key], bool):
            raise ValueError(f"{system}: {key} must be true or false, got {cfg[key]!r}")
    if cfg["critic_transform"] not in ("none", "log1p"):
        raise ValueError(f"{system}: critic_transform must be none or log1p, got {cfg['critic_transform']!r}")
    if int(cfg["num_samples"]) < 1:
        raise ValueError(f"{system}: num_samples must be >= 1, got {cfg['num_samples']}")
    return cfg


def loss_settings(cfg: dict) -> dict:
    return {k: float(cfg[k]) for k in LOSS_KEYS}


def preference_train_config(config: dict, system: str):
    """TrainConfig of the preference stage: train_common (schema defaults, then the config's),
    then the training-loop keys of the resolved preference block."""
    from ..train.trainer import TrainConfig

    keys = train_keys()
    merged = {**block_defaults("train_common"), **(config.get("train_common") or {})}
    cfg = preference_config(config, system)
    merged.update({k: v for k, v in cfg.items() if k in keys})
    return TrainConfig.from_dict(merged)
