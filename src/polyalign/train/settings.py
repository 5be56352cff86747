"""`TrainConfig`: the settings of one training run. No torch: the config checks and the
preference settings read its fields at DAG time."""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..config import block_defaults

# Every training run's per-step log, beside its model (read by the DVC plots and the critic-share summary).
LOG_FILE = "train_log.jsonl"

# Defaults come from the schema's train_common block (the one place they are written).
_TRAIN = block_defaults("train_common")


@dataclass
class TrainConfig:
    """Settings of one training run; build it with `from_dict` from train_common + a stage block."""

    lr: float = _TRAIN["lr"]
    schedule: str = _TRAIN["schedule"]  # cosine | linear | constant (after warmup)
    warmup_ratio: float = _TRAIN[
        "warmup_ratio"
    ]  # warmup steps = warmup_steps if > 0 else round(ratio · total)
    warmup_steps: int = _TRAIN["warmup_steps"]
    min_lr_ratio: float = _TRAIN["min_lr_ratio"]  # the decay ends at lr · min_lr_ratio
    weight_decay: float = _TRAIN["weight_decay"]  # on matrices only, not on norms/biases
    beta1: float = _TRAIN["beta1"]
    beta2: float = _TRAIN["beta2"]
    epochs: int = _TRAIN["epochs"]
    max_steps: int | None = _TRAIN["max_steps"]  # overrides epochs when set
    micro_batch_size: int = _TRAIN["micro_batch_size"]
    grad_accum: int = _TRAIN["grad_accum"]
    # Examples per optimizer step over all processes; when set, grad_accum is derived from it
    # (global / (micro_batch_size · processes)), so 1 and N processes take the same steps.
    global_batch_size: int | None = _TRAIN["global_batch_size"]
    max_grad_norm: float | None = _TRAIN["max_grad_norm"]
    mixed_precision: str = _TRAIN["mixed_precision"]  # no | bf16 | fp16 (fp16 needs CUDA; falls back to no)
    seed: int = _TRAIN["seed"]
    group_by_length: bool = _TRAIN["group_by_length"]
    checkpoint_every: int = _TRAIN["checkpoint_every"]  # optimizer steps; 0 = no intermediate checkpoints
    keep_checkpoints: int = _TRAIN["keep_checkpoints"]
    log_every: int = _TRAIN["log_every"]

    @classmethod
    def from_dict(cls, d: dict | None) -> TrainConfig:
        d = dict(d or {})
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"train config: unknown key(s) {sorted(unknown)} (known: {sorted(known)})")
        cfg = cls(**d)
        if cfg.schedule not in ("cosine", "linear", "constant"):
            raise ValueError(f"train config: schedule must be cosine|linear|constant, got {cfg.schedule!r}")
        if cfg.mixed_precision not in ("no", "bf16", "fp16"):
            raise ValueError(
                f"train config: mixed_precision must be no|bf16|fp16, got {cfg.mixed_precision!r}"
            )
        return cfg
