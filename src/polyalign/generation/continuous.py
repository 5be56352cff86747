"""Continuous batching: a decode loop whose batch is refilled from a queue as rows end.

`decode_continuous` keeps up to `batch_size` rows decoding. When rows end (eos or their own
token budget), the next waiting prompts are prefilled together (one left-padded forward call)
and their key/value states are spliced into the running batch's cache, so a decode step runs a
full batch until the queue is empty and the number of steps follows the generated tokens, not
batches × the longest row of each batch.

A row that ends stays in the running batch as a dead row until the next compaction: it is fed
and steps along with the others, but what it draws is ignored (never appended, never recorded).
Compaction (dropping the dead rows' cache, mask and position rows, then the columns no live row
uses) copies the whole cache of every layer, so doing it in every step in which some row ends
cost more than the few dead rows a step carries (a 3-layer model's 708 test prompts, batch 64:
77 compactions instead of 260, decoding 15 % faster with `GrowingLayer`). The batch is
compacted right before newcomers are admitted (they take the dead rows' slots) and when the dead
rows reach `refill_at` (the share of the slots that admits newcomers); the loop ends when no
live row and no waiting prompt remain.
`DecodeStats.tokens` counts the live rows' tokens only; `row_steps` counts the rows fed, dead
ones included (the work done).

The running cache is left-padded: every row's tokens end at the last column and the attention
mask marks each row's real columns, exactly as in a left-padded static batch; columns that no
row uses any more are cut from the left. Full-attention layers are `GrowingLayer`s (a step
writes its column into spare columns instead of copying the layer); sliding-window layers
(Gemma-2) keep the last `sliding_window − 1` columns of that common layout, so a row's window
is its own last tokens. Rows draw from their own counter-based stream keyed by (row seed, token
index = the number of tokens that row has generated)
(`polyalign.generation.decoding.SeededTopPSampler`), so which rows share a step, live or dead,
changes no draw; the logits themselves are reduced over differently padded tensors than in a
static batch, which changes float32 results in the last bits and could flip an exact near-tie
(tests check the tokens equal the static loop's on the paper architectures and the embedded
model).

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


class GrowingLayer(DynamicLayer):
    """A DynamicLayer whose keys and values are the leading columns of buffers with free columns
    on the right, so a decode step writes its column there instead of copying the whole layer
    into a new tensor (DynamicLayer's `torch.cat`, which cost as much as the attention itself).
    When `keys`/`values` were replaced (compaction, cutting columns) or the free columns are used
    up, the next update copies them into fresh buffers with `SPARE` free columns; splicing fills
    fresh buffers directly (`hold`). The attention reads the cache through a strided view; on CPU
    that gives the contiguous tensor's results bit for bit (tested)."""

    SPARE = 64
    _buffers: tuple[torch.Tensor, torch.Tensor] | None = None  # (keys, values) buffers

    def update(self, key_states, value_states, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
            self.keys, self.values = key_states[..., :0, :], value_states[..., :0, :]
        length = self.keys.shape[-2]
        total = length + key_states.shape[-2]
        if not self._in_buffers(total):
            self.hold([self.keys], [self.values], length, spare=total - length + self.SPARE)
        keys, values = self._buffers
        keys[..., length:total, :] = key_states
        values[..., length:total, :] = value_states
        self.keys, self.values = keys[..., :total, :], values[..., :total, :]
        return self.keys, self.values

    def hold(self, keys: list[torch.Tensor], values: list[torch.Tensor], columns: int, spare: int = SPARE):
        """Keys and values: the parts' rows one after another in fresh buffers (`_stack`)."""
        self.keys, key_buffer = _stack(keys, columns, spare)
        self.values, value_buffer = _stack(values, columns, spare)
        self._buffers = key_buffer, value_buffer

    def _in_buffers(self, total: int) -> bool:
        """Whether `keys`/`values` are still the leading columns of the buffers, with room for
        `total` columns."""
        return self._buffers is not None and all(
            held.data_ptr() == buffer.data_ptr()
            and held.stride() == buffer.stride()
            and held.shape[:-2] == buffer.shape[:-2]
            and total <= buffer.shape[-2]
            for held, buffer in zip((self.keys, self.values), self._buffers)
        )


def _stack(parts: list[torch.Tensor], columns: int, spare: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The parts' rows one after another, each part's columns ending at column `columns` (zeros
    on its left), in a buffer with `spare` more columns: (its first `columns`, the buffer)."""
    first = parts[0]
    rows = sum(p.shape[0] for p in parts)
    buffer = first.new_empty((rows, *first.shape[1:-2], columns + spare, first.shape[-1]))
    start = 0
    for p in parts:
        pad = columns - p.shape[-2]
        buffer[start : start + p.shape[0], ..., :pad, :] = 0
        buffer[start : start + p.shape[0], ..., pad:columns, :] = p
        start += p.shape[0]
    return buffer[..., :columns, :], buffer


def _new_cache(config) -> DynamicCache:
    """A DynamicCache for `config` whose full-attention layers are GrowingLayers."""
    cache = DynamicCache(config=config)
    cache.layers = [GrowingLayer() if type(layer) is DynamicLayer else layer for layer in cache.layers]
    _check_layers(cache)
    return cache


def _check_layers(cache: DynamicCache) -> None:
    for layer in cache.layers:
        if type(layer) not in (GrowingLayer, DynamicSlidingWindowLayer):
            raise TypeError(
                f"continuous batching splices GrowingLayer / DynamicSlidingWindowLayer caches, "
                f"not {type(layer).__name__}"
            )


def _stored(layer, length: int) -> int:
    """Columns a layer keeps of a `length`-column left-padded layout."""
    if isinstance(layer, DynamicSlidingWindowLayer):
        return min(length, layer.sliding_window - 1)
    return length


def splice_caches(a: DynamicCache, len_a: int, b: DynamicCache, len_b: int) -> DynamicCache:
    """`a`'s rows then `b`'s in one cache of max(len_a, len_b) left-padded columns (into `a`)."""
    length = max(len_a, len_b)
    for la, lb in zip(a.layers, b.layers):
        if not lb.is_initialized:
            continue
        if not la.is_initialized:
            raise RuntimeError("a running cache with uninitialised layers cannot take new rows")
        keep = _stored(la, length)
        if isinstance(la, GrowingLayer):
            la.hold([la.keys, lb.keys], [la.values, lb.values], keep)
        else:
            la.keys = _stack([la.keys, lb.keys], keep, 0)[0]
            la.values = _stack([la.values, lb.values], keep, 0)[0]
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
    drawn but not yet fed, whether it is still live, and the shared left-padded cache and mask."""

    def __init__(self, rows, seeds, budgets, cache, mask, positions, pending, generated):
        self.rows, self.seeds, self.budgets = rows, seeds, budgets
        self.cache, self.mask, self.positions, self.pending = cache, mask, positions, pending
        self.generated = generated  # list of token lists, one per row
        self.alive = [True] * len(rows)  # False: the row has ended and awaits compaction
        self.live = len(rows)  # rows still alive

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def dead(self) -> int:
        return len(self.rows) - self.live

    def end(self, k: int) -> None:
        self.alive[k] = False
        self.live -= 1

    def compact(self) -> None:
        """Drop the dead rows (a copy of the whole cache)."""
        self.select([k for k, alive in enumerate(self.alive) if alive])

    def select(self, keep: list[int]) -> None:
        index = torch.tensor(keep, dtype=torch.long, device=self.mask.device)
        self.cache.batch_select_indices(index)
        self.rows = [self.rows[k] for k in keep]
        self.generated = [self.generated[k] for k in keep]
        self.alive = [self.alive[k] for k in keep]
        self.live = sum(self.alive)
        self.budgets = [self.budgets[k] for k in keep]
        self.seeds = self.seeds[index.cpu()]
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
        self.alive += other.alive
        self.live += other.live
        self.seeds = torch.cat([self.seeds, other.seeds])
        self.budgets = self.budgets + other.budgets
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
        """Append the live rows' drawn tokens; rows that end become dead (the dead rows' draws
        are ignored)."""
        ended = torch.isin(chosen, eos).tolist()
        for k, (token, is_eos) in enumerate(zip(chosen.tolist(), ended)):
            if not s.alive[k]:
                continue
            s.generated[k].append(token)
            stats.tokens += 1
            if is_eos:
                out[s.rows[k]] = (s.generated[k][:-1], "eos")
                s.end(k)
            elif len(s.generated[k]) >= s.budgets[k]:
                out[s.rows[k]] = (s.generated[k], "length")
                s.end(k)
        s.pending = chosen

    with torch.no_grad():
        while queue or (slots is not None and slots.live):
            free = batch_size - (slots.live if slots is not None else 0)
            admit = bool(queue) and free >= min(refill_at, len(queue))
            if slots is not None and slots.dead and (admit or slots.dead >= refill_at):
                if slots.live:
                    slots.compact()
                else:
                    slots = None
            if admit:
                newcomers = [queue.popleft() for _ in range(min(free, len(queue)))]
                fresh = _prefill(model, prompts, newcomers, seeds, budgets, pad_id, device)
                stats.prefill_calls += 1
                record(fresh, choose(fresh.logits, fresh))
                if fresh.live:
                    if fresh.dead:  # ended at their first token: they never join
                        fresh.compact()
                    if slots is not None:
                        slots.extend(fresh)
                    else:
                        slots = fresh
                continue  # admit more before stepping if rows ended at once
            stats.decode_steps += 1
            stats.row_steps += len(slots)  # dead rows included: they are fed too
            slots.mask = torch.cat([slots.mask, slots.mask.new_ones((len(slots), 1))], dim=1)
            logits = last_logits(model, slots.pending[:, None], slots.mask, slots.positions, slots.cache)
            slots.positions = slots.positions + 1
            record(slots, choose(logits, slots))
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
    cache = _new_cache(model.config)
    logits = last_logits(model, input_ids, mask, positions, cache)
    _check_layers(cache)
    slots = Slots(
        rows=list(newcomers),
        seeds=torch.tensor([seeds[i] for i in newcomers], dtype=torch.long),
        budgets=[budgets[i] for i in newcomers],
        cache=cache,
        mask=mask,
        positions=positions[:, -1:] + 1,
        pending=None,
        generated=[[] for _ in newcomers],
    )
    slots.logits = logits
    return slots
