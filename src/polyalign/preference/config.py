"""The `preference:` config block and its per-system overrides (`dpo:`, `hdpo:`).

Resolution order for system S (dpo | hdpo), later wins:

    PREFERENCE_DEFAULTS  <-  config.preference  <-  SYSTEM_OVERRIDES[S]  <-  config.S

so DPO stays *plain* (λ = 0, γ_sft = 0, unit weights, no critic) whatever the shared block says;
only an explicit `dpo:` block can change that (an ablation). `pair_weights` is merged one level
deep. Training-loop keys (lr, epochs, max_steps, micro_batch_size, grad_accum, ...) live in the
same blocks and are split off into a `TrainConfig` on top of `train_common`, as for SFT.
"""
from __future__ import annotations

import copy
from dataclasses import fields

SYSTEMS = ("dpo", "hdpo")
# The checkpoint each system starts from (and whose train-prompt samples are its negatives).
START_POLICY = {"dpo": "sft", "hdpo": "bucket_sft"}

PAIR_WEIGHT_DEFAULTS = {
    "enabled": True,  # false: every pair weight is 1
    "alpha": 0.5,
    "beta_w": 1.0,
    "gamma": 0.25,
    "w_min": 0.5,
    "w_max": 3.0,
    "use_bucket": True,
    "use_critic": True,
    "use_language": True,
}

PREFERENCE_DEFAULTS = {
    # loss (docs/method.md §7)
    "beta": 0.1,
    "lam": 0.1,
    "gamma_sft": 0.05,
    # pairs (docs/method.md §6)
    "critic": True,  # false: s+ = s- = 0, the critic term of the pair weights is off
    "num_samples": 1,  # k policy samples per prompt; the critic keeps the hardest one
    "pair_weights": PAIR_WEIGHT_DEFAULTS,
    # batched no-grad passes
    "ref_batch_size": 32,
    "critic_batch_size": 64,
    # Scale of s+/s- in pair weights and R: "none" = the critic's D_b estimate as is; "log1p" =
    # log(1 + max(D, 0)). D_b is heavy-tailed (its scale floor 1e-6 turns one stray mark into
    # ~1e6), so raw scores let a few outliers dominate the R term.
    "critic_transform": "none",
    # training loop (TrainConfig keys; everything else comes from train_common)
    "lr": 1.0e-4,
    "epochs": 1,
}

SYSTEM_OVERRIDES = {
    "dpo": {"lam": 0.0, "gamma_sft": 0.0, "critic": False, "pair_weights": {"enabled": False}},
    "hdpo": {},
}

LOSS_KEYS = ("beta", "lam", "gamma_sft")
PAIR_KEYS = ("critic", "num_samples", "pair_weights", "ref_batch_size", "critic_batch_size", "critic_transform")


def train_keys() -> tuple[str, ...]:
    """TrainConfig's fields (imported on use: building pairs needs no torch)."""
    from ..train.trainer import TrainConfig

    return tuple(f.name for f in fields(TrainConfig))


def _merge(base: dict, top: dict | None, where: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in (top or {}).items():
        known = set(PREFERENCE_DEFAULTS) | set(train_keys())
        if key not in known:
            raise ValueError(f"{where}: unknown key {key!r} (known: {sorted(known)})")
        if key == "pair_weights":
            unknown = set(value or {}) - set(PAIR_WEIGHT_DEFAULTS)
            if unknown:
                raise ValueError(f"{where}.pair_weights: unknown key(s) {sorted(unknown)} "
                                 f"(known: {sorted(PAIR_WEIGHT_DEFAULTS)})")
            out["pair_weights"] = {**out.get("pair_weights", {}), **(value or {})}
        else:
            out[key] = value
    return out


def preference_config(config: dict, system: str) -> dict:
    """The resolved preference settings of `system` (pair, loss and training-loop keys)."""
    if system not in SYSTEMS:
        raise ValueError(f"preference system must be one of {SYSTEMS}, got {system!r}")
    cfg = _merge(PREFERENCE_DEFAULTS, config.get("preference"), "preference")
    cfg = _merge(cfg, SYSTEM_OVERRIDES[system], f"built-in {system} overrides")
    cfg = _merge(cfg, config.get(system), system)
    if not cfg["beta"] > 0:
        raise ValueError(f"{system}: beta must be > 0, got {cfg['beta']}")
    for key in ("lam", "gamma_sft"):
        if cfg[key] < 0:
            raise ValueError(f"{system}: {key} must be >= 0, got {cfg[key]}")
    if not isinstance(cfg["critic"], bool):
        raise ValueError(f"{system}: critic must be true or false, got {cfg['critic']!r}")
    if cfg["critic_transform"] not in ("none", "log1p"):
        raise ValueError(f"{system}: critic_transform must be none or log1p, got {cfg['critic_transform']!r}")
    if int(cfg["num_samples"]) < 1:
        raise ValueError(f"{system}: num_samples must be >= 1, got {cfg['num_samples']}")
    return cfg


def loss_settings(cfg: dict) -> dict:
    return {k: float(cfg[k]) for k in LOSS_KEYS}


def pair_settings(cfg: dict) -> dict:
    return {k: copy.deepcopy(cfg[k]) for k in PAIR_KEYS}


def preference_train_config(config: dict, system: str):
    """TrainConfig of the preference stage: train_common defaults, the config's train_common,
    then the training-loop keys of the resolved preference block."""
    from ..train.sft import TRAIN_DEFAULTS
    from ..train.trainer import TrainConfig

    keys = train_keys()
    merged = {**TRAIN_DEFAULTS["train_common"], **(config.get("train_common") or {})}
    cfg = preference_config(config, system)
    merged.update({k: v for k, v in cfg.items() if k in keys})
    return TrainConfig.from_dict(merged)
