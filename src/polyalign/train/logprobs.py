"""Sequence log-probs of responses under a causal LM, and the concatenated chosen/rejected batch.

The same two functions serve the cached reference log-probs (run once under `torch.no_grad()`
with the frozen starting checkpoint) and the policy forward of DPO/HDPO training, so reference
and policy numbers come from exactly the same code path (padding, positions, shift, dtype).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from ..models.position_logits import position_logits

__all__ = ["PAIR_KEYS", "position_ids_from_mask", "response_logps", "concat_pair_batch", "split_pair"]

PAIR_KEYS = ("input_ids", "attention_mask", "labels")


def position_ids_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions 0, 1, … counted over the attended tokens only (0 on padding), so a left-padded
    row gets the same positions as the unpadded sequence (HF models otherwise use 0..T−1)."""
    return (attention_mask.long().cumsum(dim=-1) - 1).clamp(min=0)


def response_logps(
    model,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    labels: torch.Tensor,
    *,
    return_n_tokens: bool = False,
    use_position_ids: bool = True,
    ignore_index: int = -100,
):
    """Per-sequence summed log-prob of the label tokens, [B] float32 (gradient flows if enabled).

    `labels` is aligned with `input_ids` and holds −100 on prompt and padding positions; the
    causal shift is applied here. Works with left or right padding: position ids are derived
    from the attention mask (`use_position_ids=False` leaves them to the model). With
    `return_n_tokens=True` returns (logps [B], n_tokens [B]); −logps/n_tokens is then the
    token-mean NLL of each response (HDPO's SFT anchor on the chosen half).
    """
    if input_ids.shape != labels.shape or input_ids.shape != attention_mask.shape:
        raise ValueError(
            f"response_logps: input_ids {tuple(input_ids.shape)}, attention_mask "
            f"{tuple(attention_mask.shape)} and labels {tuple(labels.shape)} must have one shape"
        )
    kwargs = {"input_ids": input_ids, "attention_mask": attention_mask, "use_cache": False}
    if use_position_ids:
        kwargs["position_ids"] = position_ids_from_mask(attention_mask)
    sum_nll, n_tokens = _label_positions_nll(model, kwargs, labels, ignore_index)
    logps = -sum_nll
    return (logps, n_tokens) if return_n_tokens else logps


def _label_positions_nll(model, kwargs: dict, labels: torch.Tensor, ignore_index: int):
    """`sequence_nll` with the vocabulary projection applied only at the positions that predict
    a label token (`models.position_logits`: through DDP/FSDP wrappers, Gemma-2's soft-capping
    on those rows only). In a preference batch prompts and padding are most of the tokens, and
    [B, T, V] logits would be most of the memory; the result is the same sum over the same terms."""
    shift_labels = labels[:, 1:]
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = shift_labels != ignore_index
    logits = position_logits(model, keep, **kwargs).float()
    per_token = F.cross_entropy(logits, shift_labels[keep[:, :-1]], reduction="none")
    # back onto the [B, T−1] grid and summed per row: deterministic on CUDA (index_add is not)
    # and the same summation as `sequence_nll`
    grid = torch.zeros(shift_labels.shape, dtype=per_token.dtype, device=per_token.device)
    return grid.masked_scatter(keep[:, :-1], per_token).sum(dim=1), keep.sum(dim=1)


def _pad_to(t: torch.Tensor, length: int, value, side: str) -> torch.Tensor:
    extra = length - t.shape[1]
    if extra == 0:
        return t
    return F.pad(t, (extra, 0) if side == "left" else (0, extra), value=value)


def concat_pair_batch(
    chosen: Mapping[str, torch.Tensor],
    rejected: Mapping[str, torch.Tensor],
    pad_id: int,
    *,
    padding_side: str = "right",
    ignore_index: int = -100,
) -> tuple[dict[str, torch.Tensor], int]:
    """Stack K chosen and K rejected sequences into ONE batch of 2K rows for a single forward.

    `chosen` and `rejected` are mappings with exactly `input_ids`, `attention_mask`, `labels`
    ([K, T_c] and [K, T_r]). Both are padded to max(T_c, T_r) on `padding_side` (input_ids with
    `pad_id`, attention_mask with 0, labels with −100) and concatenated along the batch: rows
    [:K] are chosen, rows [K:] rejected. Returns (batch, K); split results with `split_pair`.
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
    for name, part in (("chosen", chosen), ("rejected", rejected)):
        keys = set(part)
        if keys != set(PAIR_KEYS):
            raise ValueError(f"{name}: expected keys {sorted(PAIR_KEYS)}, got {sorted(keys)}")
        shapes = {k: tuple(part[k].shape) for k in PAIR_KEYS}
        if len(set(shapes.values())) != 1 or len(shapes["input_ids"]) != 2:
            raise ValueError(f"{name}: tensors must share one [K, T] shape, got {shapes}")
    k = chosen["input_ids"].shape[0]
    if rejected["input_ids"].shape[0] != k:
        raise ValueError(f"{k} chosen but {rejected['input_ids'].shape[0]} rejected rows")
    length = max(chosen["input_ids"].shape[1], rejected["input_ids"].shape[1])
    fill = {"input_ids": pad_id, "attention_mask": 0, "labels": ignore_index}
    batch = {
        key: torch.cat(
            [
                _pad_to(chosen[key], length, fill[key], padding_side),
                _pad_to(rejected[key], length, fill[key], padding_side),
            ],
            dim=0,
        )
        for key in PAIR_KEYS
    }
    return batch, k


def split_pair(t: torch.Tensor, split: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of the stacking of `concat_pair_batch` along dim 0: (chosen part, rejected part)."""
    if t.shape[0] != 2 * split:
        raise ValueError(f"split_pair: expected {2 * split} rows, got {t.shape[0]}")
    return t[:split], t[split:]
