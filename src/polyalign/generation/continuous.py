"""Continuous batching: a decode loop whose batch is refilled from a queue as rows end.

`decode_continuous` keeps up to `batch_size` rows decoding. When rows end (eos or their own
token budget), the next waiting prompts are prefilled together (one left-padded forward call)
and their key/value states are spliced into the running batch's cache, so a decode step runs a
full batch until the queue is empty and the number of steps follows the generated tokens, not
batches × the longest row of each batch.

The running cache is left-padded: every row's tokens end at the last column and the attention
mask marks each row's real columns, exactly as in a left-padded static batch; columns that no
row uses any more are cut from the left. Sliding-window layers (Gemma-2) keep the last
`sliding_window − 1` columns of that common layout, so a row's window is its own last tokens.
Rows draw from their own counter-based stream keyed by (row seed, token index)
(`polyalign.generation.decoding.SeededTopPSampler`), so which rows share a step changes no draw; the
logits themselves are reduced over differently padded tensors than in a static batch, which
changes float32 results in the last bits and could flip an exact near-tie (tests check the
tokens equal the static loop's on the paper architectures and the embedded model).

Why our own loop and not transformers' `generate_batch` (ContinuousBatchingManager): it samples
with `torch.multinomial` from the global generator (no per-row streams, so a row's tokens depend
on its neighbours), runs in a background thread on paged attention, and disables its decode
path for sliding-window models (docs/models.md).
"""

from __future__ import annotations

from collections import deque

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer, DynamicSlidingWindowLayer

from .decoding import DecodeStats, SeededTopPSampler, last_logits

# Newcomers are admitted once this share of the slots is free (or the queue is that short):
# one prefill call per several ended rows instead of one per ended row.
REFILL_DIVISOR = 8


def _check_layers(cache: DynamicCache) -> None:
    for layer in cache.layers:
        if type(layer) not in (DynamicLayer, DynamicSlidingWindowLayer):
            raise TypeError(
                f"continuous batching splices DynamicLayer / DynamicSlidingWindowLayer caches, "
                f"not {type(layer).__name__}"
            )


def _stored(layer, length: int) -> int:
    """Columns a layer keeps of a `length`-column left-padded layout."""
    if isinstance(layer, DynamicSlidingWindowLayer):
        return min(length, layer.sliding_window - 1)
    return length


def _pad_left(t: torch.Tensor, columns: int) -> torch.Tensor:
    short = columns - t.shape[-2]
    if short == 0:
        return t
    return torch.cat([t.new_zeros((*t.shape[:-2], short, t.shape[-1])), t], dim=-2)


def splice_caches(a: DynamicCache, len_a: int, b: DynamicCache, len_b: int) -> DynamicCache:
    """`a`'s rows then `b`'s in one cache of max(len_a, len_b) left-padded columns (into `a`)."""
    length = max(len_a, len_b)
    for la, lb in zip(a.layers, b.layers):
        if not lb.is_initialized:
            continue
        if not la.is_initialized:
            raise RuntimeError("a running cache with uninitialised layers cannot take new rows")
        keep = _stored(la, length)
        la.keys = torch.cat([_pad_left(la.keys, keep), _pad_left(lb.keys, keep)], dim=0)
        la.values = torch.cat([_pad_left(la.values, keep), _pad_left(lb.values, keep)], dim=0)
        if isinstance(la, DynamicSlidingWindowLayer):
            la.cumulative_length = length
    return a


def drop_left_columns(cache: DynamicCache, length: int, n: int) -> None:
    """Cut the first `n` of `length` layout columns (padding of every row) from every layer."""
    for layer in cache.layers:
        if not layer.is_initialized:
            continue
        before, after = _stored(layer, length), _stored(layer, length - n)
        layer.keys = layer.keys[:, :, before - after :]
        layer.values = layer.values[:, :, before - after :]
        if isinstance(layer, DynamicSlidingWindowLayer):
            layer.cumulative_length = length - n


class Slots:
    """The running batch: per row its prompt index, seed, budget, next position, the token
    drawn but not yet fed, and the shared left-padded cache and mask."""

    def __init__(self, rows, seeds, budgets, cache, mask, positions, pending, generated):
        self.rows, self.seeds, self.budgets = rows, seeds, budgets
        self.cache, self.mask, self.positions, self.pending = cache, mask, positions, pending
        self.generated = generated  # list of token lists, one per row

    def __len__(self) -> int:
        return len(self.rows)

    def select(self, keep: list[int]) -> None:
        index = torch.tensor(keep, dtype=torch.long, device=self.mask.device)
        self.cache.batch_select_indices(index)
        self.rows = [self.rows[k] for k in keep]
        self.generated = [self.generated[k] for k in keep]
        self.seeds, self.budgets = self.seeds[index.cpu()], self.budgets[index.cpu()]
        self.mask, self.positions, self.pending = self.mask[index], self.positions[index], self.pending[index]
        unused = int((~self.mask.bool().any(dim=0)).long().cumprod(dim=0).sum())
        if unused:
            drop_left_columns(self.cache, self.mask.shape[1], unused)
            self.mask = self.mask[:, unused:]

    def extend(self, other: Slots) -> None:
        splice_caches(self.cache, self.mask.shape[1], other.cache, other.mask.shape[1])
        width = max(self.mask.shape[1], other.mask.shape[1])
        self.mask = torch.cat([_pad_mask(self.mask, width), _pad_mask(other.mask, width)])
        self.rows += other.rows
        self.generated += other.generated
        self.seeds = torch.cat([self.seeds, other.seeds])
        self.budgets = torch.cat([self.budgets, other.budgets])
        self.positions = torch.cat([self.positions, other.positions])
        self.pending = torch.cat([self.pending, other.pending])


def _pad_mask(mask: torch.Tensor, width: int) -> torch.Tensor:
    return torch.cat([mask.new_zeros((mask.shape[0], width - mask.shape[1])), mask], dim=1)


def decode_continuous(
    model,
    prompts: list[list[int]],
    seeds: list[int],
    budgets: list[int],
    *,
    batch_size: int,
    eos_ids: list[int],
    pad_id: int,
    sampling: tuple[float, float] | None,
    stats: DecodeStats | None = None,
) -> list[tuple[list[int], str]]:
    """(generated ids without eos, "eos" | "length") per prompt, prompts admitted in the given
    order. `budgets[i]`: new tokens prompt i may generate; `sampling`: (temperature, top_p),
    None for greedy. A row's tokens are drawn from its own stream (seed, token index)."""
    device = next(model.parameters()).device
    eos = torch.tensor(eos_ids, device=device)
    sampler = SeededTopPSampler([], *sampling) if sampling is not None else None
    stats = stats if stats is not None else DecodeStats()
    out: list = [None] * len(prompts)
    queue = deque(range(len(prompts)))
    refill_at = max(1, batch_size // REFILL_DIVISOR)
    slots: Slots | None = None

    def choose(logits: torch.Tensor, s: Slots) -> torch.Tensor:
        steps = torch.tensor([len(g) for g in s.generated], dtype=torch.long)
        if sampler is not None:
            sampler.seeds, sampler.step = s.seeds, steps
            logits = sampler(None, logits)
        return logits.argmax(dim=-1)

    def record(s: Slots, chosen: torch.Tensor) -> None:
        """Append the drawn tokens; rows that end leave `s`."""
        ended = torch.isin(chosen, eos).tolist()
        keep = []
        for k, (token, is_eos) in enumerate(zip(chosen.tolist(), ended)):
            s.generated[k].append(token)
            stats.tokens += 1
            if is_eos:
                out[s.rows[k]] = (s.generated[k][:-1], "eos")
            elif len(s.generated[k]) >= int(s.budgets[k]):
                out[s.rows[k]] = (s.generated[k], "length")
            else:
                keep.append(k)
        s.pending = chosen
        if len(keep) < len(s):
            s.select(keep)

    with torch.no_grad():
        while queue or slots:
            free = batch_size - (len(slots) if slots else 0)
            if queue and free >= min(refill_at, len(queue)):
                newcomers = [queue.popleft() for _ in range(min(free, len(queue)))]
                fresh = _prefill(model, prompts, newcomers, seeds, budgets, pad_id, device)
                stats.prefill_calls += 1
                record(fresh, choose(fresh.logits, fresh))
                if len(fresh):
                    if slots:
                        slots.extend(fresh)
                    else:
                        slots = fresh
                continue  # admit more before stepping if rows ended at once
            stats.decode_steps += 1
            stats.row_steps += len(slots)
            slots.mask = torch.cat([slots.mask, slots.mask.new_ones((len(slots), 1))], dim=1)
            logits = last_logits(model, slots.pending[:, None], slots.mask, slots.positions, slots.cache)
            slots.positions = slots.positions + 1
            record(slots, choose(logits, slots))
            if not len(slots):
                slots = None
    return out


def _prefill(model, prompts, newcomers, seeds, budgets, pad_id, device) -> Slots:
    """The newcomers' prompts in one left-padded forward call: a Slots with their cache and the
    logits of their last prompt position (`.logits`)."""
    width = max(len(prompts[i]) for i in newcomers)
    input_ids = torch.full((len(newcomers), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(newcomers), width), dtype=torch.long)
    for row, i in enumerate(newcomers):
        input_ids[row, width - len(prompts[i]) :] = torch.tensor(prompts[i])
        mask[row, width - len(prompts[i]) :] = 1
    input_ids, mask = input_ids.to(device), mask.to(device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    cache = DynamicCache(config=model.config)
    _check_layers(cache)
    logits = last_logits(model, input_ids, mask, positions, cache)
    _check_layers(cache)
    slots = Slots(
        rows=list(newcomers),
        seeds=torch.tensor([seeds[i] for i in newcomers], dtype=torch.long),
        budgets=torch.tensor([budgets[i] for i in newcomers], dtype=torch.long),
        cache=cache,
        mask=mask,
        positions=positions[:, -1:] + 1,
        pending=None,
        generated=[[] for _ in newcomers],
    )
    slots.logits = logits
    return slots
