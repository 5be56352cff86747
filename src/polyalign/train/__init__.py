"""Training: pure weight and loss functions (weights, losses, logprobs) used by the trainers.

`weights` is NumPy-only and imported eagerly; the torch modules are imported on first use so
that pipeline steps needing only the weights do not pay the torch import.
"""

from __future__ import annotations

import importlib

from .weights import bucket_weights, cap_and_renormalize, inverse_frequency_gain, pair_weights

_LAZY = {
    "sequence_nll": "losses",
    "token_mean_nll": "losses",
    "weighted_sft_loss": "losses",
    "dpo_margin": "losses",
    "dpo_loss": "losses",
    "hdpo_loss": "losses",
    "response_logps": "logprobs",
    "concat_pair_batch": "logprobs",
    "split_pair": "logprobs",
    "position_ids_from_mask": "logprobs",
}

__all__ = ["bucket_weights", "cap_and_renormalize", "inverse_frequency_gain", "pair_weights", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
