"""Next-token logits at chosen positions only, through the model's own forward.

Log-probs of responses (reference cache, DPO/HDPO) and the zero-shot detectors need the logits
of a few positions per sequence (prompts and padding are most of the tokens), but a causal LM
returns [batch, length, vocabulary] logits: 46 GB in bf16 for a Gemma-2 reference batch of
32 × 2,800 tokens × 256,000. Here the model runs its ordinary forward, called through whatever
wraps it (DDP, FSDP: their hooks synchronise gradients and gather parameters), while its output
projection is replaced for that call by one that first keeps the chosen rows of the hidden
states. Whatever the architecture does after the projection (Gemma-2's final-logit soft-capping,
a logit scale) is elementwise and so runs on the kept rows only, by the model's own code.

A model without an output projection to replace falls back to the full logits, computed a
few sequences at a time so that at most `FULL_LOGITS_ELEMENTS` logits exist at once.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

__all__ = ["FULL_LOGITS_ELEMENTS", "output_projection", "position_logits", "unwrap_model"]

# Logits held at once when the full [rows, length, vocabulary] tensor cannot be avoided.
FULL_LOGITS_ELEMENTS = 2**26


def unwrap_model(model):
    """The model inside DDP / FSDP (`.module`) and torch.compile (`._orig_mod`) wrappers."""
    while True:
        inner = getattr(model, "module", None) or getattr(model, "_orig_mod", None)
        if not isinstance(inner, torch.nn.Module) or inner is model:
            return model
        model = inner


def output_projection(model) -> torch.nn.Module | None:
    """The module that maps the last hidden states to logits (innermost, inside an FSDP unit
    that wraps it on its own, so the unit still gathers its weight), or None."""
    inner = unwrap_model(model)
    get = getattr(inner, "get_output_embeddings", None)
    head = get() if callable(get) else None
    return unwrap_model(head) if isinstance(head, torch.nn.Module) else None


@contextmanager
def _rows_only(head: torch.nn.Module, keep: torch.Tensor, calls: list):
    own = head.__dict__.get("forward")  # a hook's (accelerate's offloading sets one), else None
    projection = head.forward

    def forward(hidden, *args, **kwargs):
        if hidden.shape[:2] != keep.shape:
            raise RuntimeError(
                f"position_logits: the output projection got hidden states {tuple(hidden.shape)}, "
                f"expected [{keep.shape[0]}, {keep.shape[1]}, hidden]; this architecture "
                "slices or reshapes them before the projection"
            )
        calls.append(1)
        return projection(hidden[keep], *args, **kwargs)

    head.forward = forward
    try:
        yield
    finally:
        if own is None:
            del head.forward  # back to the class's forward
        else:
            head.forward = own


def position_logits(model, keep: torch.Tensor, **forward_kwargs) -> torch.Tensor:
    """Logits [N, V] at the N positions where `keep` [B, T] (bool) is True, in row-major order,
    equal to `model(**forward_kwargs).logits[keep]` (gradients flow when enabled)."""
    if keep.dtype != torch.bool or keep.dim() != 2:
        raise ValueError(
            f"position_logits: keep must be a [B, T] bool mask, got {keep.dtype} {tuple(keep.shape)}"
        )
    head = output_projection(model)
    if head is None:
        return _chunked_full_logits(model, keep, forward_kwargs)
    calls: list = []
    with _rows_only(head, keep, calls):
        logits = model(**forward_kwargs).logits
    if len(calls) != 1 or logits.dim() != 2 or logits.shape[0] != int(keep.sum()):
        raise RuntimeError(
            f"position_logits: the output projection ran {len(calls)} time(s) and the model "
            f"returned logits {tuple(logits.shape)} for {int(keep.sum())} kept positions; this "
            "architecture does not compute its logits as projection(hidden states)"
        )
    return logits


def _chunked_full_logits(model, keep: torch.Tensor, forward_kwargs: dict) -> torch.Tensor:
    """The full logits of a few sequences at a time, reduced to the kept positions at once."""
    batch, length = keep.shape
    vocab = getattr(getattr(unwrap_model(model), "config", None), "vocab_size", None)
    # without a configured vocabulary, one sequence first tells it
    rows = max(1, FULL_LOGITS_ELEMENTS // (length * vocab)) if vocab else 1
    parts, start = [], 0
    while start < batch:
        sub = {
            k: v[start : start + rows] if torch.is_tensor(v) and v.dim() >= 1 and v.shape[0] == batch else v
            for k, v in forward_kwargs.items()
        }
        logits = model(**sub).logits
        parts.append(logits[keep[start : start + rows]])
        start += rows
        rows = max(1, FULL_LOGITS_ELEMENTS // (length * logits.shape[-1]))
        del logits
    return torch.cat(parts, dim=0)
