"""Typed settings of the `model:` block (docs/configuration.md); defaults live in the schema only."""

from __future__ import annotations

from dataclasses import dataclass

from ..config.settings import settings_from_block


@dataclass(frozen=True)
class ModelSettings:
    """The resolved `model:` block: a scratch LLaMA-style model's shape, or a hub/local source,
    and how every stage loads it (device, dtype, attention, chat template)."""

    source: str  # "scratch", a hub id or a local path
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int | None  # None: as many as num_heads
    intermediate_size: int
    max_length: int
    tie_word_embeddings: bool
    tokenizer_min_frequency: int
    trust_remote_code: bool
    dtype: str
    attn_implementation: str
    seed: int  # initialisation of a scratch model
    preset: str | None
    path: str | None
    family: str | None
    chat_template: str
    device: str
    gradient_checkpointing: bool

    @property
    def is_scratch(self) -> bool:
        return self.source == "scratch"


def model_settings(block: dict | None) -> ModelSettings:
    """ModelSettings of a resolved `model:` block (every key present; see resolve_config)."""
    return settings_from_block(ModelSettings, block, "model")
