"""Sequence log-probs of responses under a causal LM, and the two layouts of a chosen/rejected batch.

The same functions serve the cached reference log-probs (run once under `torch.no_grad()` with
the frozen starting checkpoint) and the policy forward of DPO/HDPO training, so reference and
policy numbers come from exactly the same code path (layout, padding, positions, shift, dtype).

A pair batch is laid out one of two ways (`pair_logps` reads either):
- two rows per pair (`concat_pair_batch`): prompt + chosen and prompt + rejected, the prompt run
  twice;
- one row per pair (`shared_prompt_batch`): prompt + chosen + bridge + rejected, where the bridge
  is a copy of the prompt's last token at that token's position, and the bridge and the rejected
  tokens attend to the prompt (without its last token, which the bridge stands for) and to each
  other, never to the chosen tokens. Every token then sees exactly the context it has in its own
  row of the two-row layout, at the same positions, so the log-probs and their gradients are
  the same up to float rounding, and the prompt, most of a pair's tokens, runs once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F

from ..models.position_logits import position_logits, unwrap_model

__all__ = [
    "PAIR_KEYS",
    "pair_logps",
    "position_ids_from_mask",
    "prompt_length",
    "response_logps",
    "concat_pair_batch",
    "shared_prompt_batch",
    "shared_prompt_mask",
    "split_pair",
]

PAIR_KEYS = ("input_ids", "attention_mask", "labels")
# segments of a shared-prompt row: padding, the prompt but its last token, the prompt's last
# token, the chosen response, the bridge + the rejected response
PAD, PROMPT, PROMPT_LAST, CHOSEN, REJECTED = 0, 1, 2, 3, 4


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
    grid, counted = _label_nll_grid(model, kwargs, labels, ignore_index)
    logps = -grid.sum(dim=1)
    return (logps, counted.sum(dim=1)) if return_n_tokens else logps


def _label_nll_grid(model, kwargs: dict, labels: torch.Tensor, ignore_index: int):
    """Per-token NLL on the [B, T−1] grid of predicting positions (0 where no label follows) and
    that grid's label mask, with the vocabulary projection applied only at the positions that
    predict a label token (`models.position_logits`: through DDP/FSDP wrappers, Gemma-2's
    soft-capping on those rows only). In a preference batch prompts and padding are most of the
    tokens, and [B, T, V] logits would be most of the memory; the terms are the same."""
    shift_labels = labels[:, 1:]
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = shift_labels != ignore_index
    logits = position_logits(model, keep, **kwargs).float()
    per_token = F.cross_entropy(logits, shift_labels[keep[:, :-1]], reduction="none")
    # back onto the grid and summed per row by the caller: deterministic on CUDA (index_add is
    # not) and the same summation as `sequence_nll`
    grid = torch.zeros(shift_labels.shape, dtype=per_token.dtype, device=per_token.device)
    return grid.masked_scatter(keep[:, :-1], per_token), keep[:, :-1]


def pair_logps(model, batch: Mapping[str, torch.Tensor], ignore_index: int = -100):
    """(chosen logps [K], rejected logps [K], chosen tokens [K], rejected tokens [K]) of a pair
    batch in either layout: `shared_prompt_batch`'s (it has `segments`) or `concat_pair_batch`'s."""
    if "segments" not in batch:
        k = batch["input_ids"].shape[0] // 2
        logps, n = response_logps(
            model, batch["input_ids"], batch["attention_mask"], batch["labels"], return_n_tokens=True
        )
        (chosen, rejected), (n_chosen, n_rejected) = split_pair(logps, k), split_pair(n, k)
        return chosen, rejected, n_chosen, n_rejected
    segments = batch["segments"]
    _check_window(model, batch["position_ids"])
    kwargs = {
        "input_ids": batch["input_ids"],
        "attention_mask": shared_prompt_mask(segments, _attention_implementation(model)),
        "position_ids": batch["position_ids"],
        "use_cache": False,
    }
    grid, counted = _label_nll_grid(model, kwargs, batch["labels"], ignore_index)
    # a label belongs to the side of the token it predicts
    chosen, rejected = (counted & (segments[:, 1:] == side) for side in (CHOSEN, REJECTED))
    return -(grid * chosen).sum(dim=1), -(grid * rejected).sum(dim=1), chosen.sum(dim=1), rejected.sum(dim=1)


def _check_window(model, position_ids: torch.Tensor) -> None:
    """One mask serves every layer: a sliding window (Gemma-2's local layers) must not bind,
    i.e. every position must lie inside it."""
    window = getattr(getattr(unwrap_model(model), "config", None), "sliding_window", None)
    if window is not None and int(position_ids.max()) >= int(window):
        raise ValueError(
            f"preference.shared_prompt: positions up to {int(position_ids.max())} reach the model's "
            f"sliding window ({window}), which one shared mask cannot express; set "
            "preference.shared_prompt: false"
        )


def _attention_implementation(model) -> str:
    config = getattr(unwrap_model(model), "config", None)
    return str(getattr(config, "_attn_implementation", None) or "eager")


def shared_prompt_batch(
    chosen: Sequence[tuple[Sequence[int], Sequence[int]]],
    rejected: Sequence[tuple[Sequence[int], Sequence[int]]],
    pad_id: int,
    ignore_index: int = -100,
) -> dict[str, torch.Tensor]:
    """K right-padded rows prompt + chosen + bridge + rejected (module docstring) from the K
    pairs' (input_ids, labels) of each side, which must share their prompt (the tokens before
    the first label). Returns input_ids, labels (−100 on the prompt, the bridge and padding),
    position_ids (each side counts on from the prompt) and segments (PAD ... REJECTED)."""
    if len(chosen) != len(rejected) or not chosen:
        raise ValueError(f"shared_prompt_batch: {len(chosen)} chosen and {len(rejected)} rejected sides")
    rows = []
    for k, ((c_ids, c_labels), (r_ids, r_labels)) in enumerate(zip(chosen, rejected)):
        c_ids, c_labels, r_ids, r_labels = (list(x) for x in (c_ids, c_labels, r_ids, r_labels))
        p = prompt_length(c_labels, ignore_index)
        if p < 1 or p != prompt_length(r_labels, ignore_index) or c_ids[:p] != r_ids[:p]:
            raise ValueError(
                f"shared_prompt_batch: pair {k}: the chosen and rejected rows do not share a prompt "
                "(the tokens before the first label, at least one)"
            )
        n_c, n_r = len(c_ids) - p, len(r_ids) - p
        rows.append(
            (
                c_ids + [c_ids[p - 1]] + r_ids[p:],
                c_labels + [ignore_index] + r_labels[p:],
                list(range(p + n_c)) + [p - 1] + list(range(p, p + n_r)),
                [PROMPT] * (p - 1) + [PROMPT_LAST] + [CHOSEN] * n_c + [REJECTED] * (1 + n_r),
            )
        )
    width = max(len(r[0]) for r in rows)
    fill = (pad_id, ignore_index, 0, PAD)
    keys = ("input_ids", "labels", "position_ids", "segments")
    return {
        key: torch.tensor([r[j] + [fill[j]] * (width - len(r[j])) for r in rows], dtype=torch.long)
        for j, key in enumerate(keys)
    }


def prompt_length(labels: Sequence[int], ignore_index: int = -100) -> int:
    """Tokens before the first label (0 when nothing is labelled)."""
    return next((i for i, x in enumerate(labels) if x != ignore_index), 0)


def shared_prompt_mask(segments: torch.Tensor, attn_implementation: str) -> torch.Tensor:
    """The [K, 1, T, T] attention mask of shared-prompt rows: causal, the prompt and chosen
    tokens see the prompt and chosen tokens, the bridge and rejected tokens see the prompt but
    its last token and each other, padding sees only itself (no empty softmax row). Boolean
    (True = attend) for sdpa, additive float for eager; other implementations take no custom
    mask (preference.shared_prompt: false for them)."""
    q, k = segments[:, :, None], segments[:, None, :]
    length = segments.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool, device=segments.device).tril()
    front = (q != PAD) & (q != REJECTED) & (k != PAD) & (k != REJECTED)
    back = (q == REJECTED) & ((k == PROMPT) | (k == REJECTED))
    own = (q == PAD) & torch.eye(length, dtype=torch.bool, device=segments.device)
    allowed = (((front | back) & causal) | own)[:, None]
    if attn_implementation == "sdpa":
        return allowed
    if attn_implementation == "eager":
        blocked = torch.finfo(torch.float32).min
        return torch.zeros(allowed.shape, dtype=torch.float32, device=segments.device).masked_fill(
            ~allowed, blocked
        )
    raise ValueError(
        f"preference.shared_prompt: attention implementation {attn_implementation!r} takes no "
        "custom attention mask; set preference.shared_prompt: false (one row per side) or use sdpa/eager"
    )


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
