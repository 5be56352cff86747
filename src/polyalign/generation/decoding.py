"""Token-level decoding: the KV-cache batch loop, the seeded top-p sampler and eos handling.

`decode_batch` decodes one left-padded batch, a row leaving the batch as soon as it emits eos
(`decode_static_batches`, batches of length-sorted prompts, is the loop continuous batching
replaced: `polyalign.generation.continuous` is tested and benchmarked against it).
Sampling is an exact inverse-CDF draw from the tempered top-p distribution
(`SeededTopPSampler`), the uniform of each (record, sample) and step coming from its own
counter-based stream keyed by `row_seed(seed, id, sample)`, so a row's randomness does not depend
on which other rows share its batch or in what order records come. `generate_unbatched` is the
reference the loop is tested against: one prompt at a time through plain `model.generate`.
Prompt rendering, batching and files are `polyalign.generation.generate`'s.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
import torch
from transformers import DynamicCache, GenerationConfig, LogitsProcessor

from ..config import ConfigError


@dataclass(frozen=True)
class GenerationSettings:
    """The resolved `generation:` block: one decoding config shared by every system."""

    max_new_tokens: int
    cot_extra_tokens: int  # added to max_new_tokens for the CoT prompt
    length_check_quantile: float | None  # None: max_new_tokens is not checked against human answers
    do_sample: bool
    temperature: float
    top_p: float
    batch_size: int
    seed: int
    num_samples: int
    part_rows: int  # rows per resumable part (each decoded from an empty batch)
    budget_quantile: float | None  # None: every language gets the cap
    budget_headroom: float
    system_max_new_tokens: dict  # system -> its own cap (at most max_new_tokens)

    def __post_init__(self):
        for key in ("length_check_quantile", "budget_quantile"):
            q = getattr(self, key)
            if q is not None and not 0 < q <= 1:
                raise ConfigError(f"generation.{key}: must lie in (0, 1] or be null, got {q}")
        if self.budget_headroom < 1:
            raise ConfigError(f"generation.budget_headroom: must be at least 1, got {self.budget_headroom}")
        for system, cap in self.system_max_new_tokens.items():
            if not isinstance(cap, int) or cap < 1:
                raise ConfigError(
                    f"generation.system_max_new_tokens.{system}: a positive integer, got {cap!r}"
                )
        if self.do_sample and not (self.temperature > 0 and 0 < self.top_p <= 1):
            raise ConfigError(
                f"generation: need temperature > 0 and 0 < top_p <= 1, got {self.temperature}, {self.top_p}"
            )


@dataclass
class DecodeStats:
    """Counts of one or more `decode_continuous` / static-batch runs (the benchmark prints them)."""

    prefill_calls: int = 0  # forward calls over prompts
    decode_steps: int = 0  # forward calls of one token per row
    tokens: int = 0  # tokens generated (eos included)
    row_steps: int = 0  # rows fed summed over decode steps (slot occupancy)

    @property
    def forward_calls(self) -> int:
        return self.prefill_calls + self.decode_steps

    def add(self, other: DecodeStats) -> None:
        for name in ("prefill_calls", "decode_steps", "tokens", "row_steps"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def last_logits(model, input_ids, attention_mask, position_ids, cache) -> torch.Tensor:
    """Logits [rows, vocab] of the last position, the key/value states appended to `cache`."""
    return model(
        input_ids=input_ids,
        attention_mask=attention_mask,
        position_ids=position_ids,
        cache=cache,
        use_cache=True,
        logits_to_keep=1,
    ).logits[:, -1, :]


def row_seed(seed: int, record_id: str, sample: int) -> int:
    return int(hashlib.sha256(f"{seed}:{record_id}:{sample}".encode()).hexdigest()[:15], 16)


def _int64(c: int) -> int:
    return c - (1 << 64) if c >= (1 << 63) else c


_GOLDEN, _MIX1, _MIX2 = _int64(0x9E3779B97F4A7C15), _int64(0xBF58476D1CE4E5B9), _int64(0x94D049BB133111EB)


def _splitmix(x: torch.Tensor) -> torch.Tensor:
    """The splitmix64 finaliser on int64 tensors (multiplication wraps; the masks make the
    arithmetic right shifts logical)."""
    x = x ^ ((x >> 30) & ((1 << 34) - 1))
    x = x * _MIX1
    x = x ^ ((x >> 27) & ((1 << 37) - 1))
    x = x * _MIX2
    return x ^ ((x >> 31) & ((1 << 33) - 1))


def counter_uniform(seeds: torch.Tensor, step: int | torch.Tensor, n: int) -> torch.Tensor:
    """[len(seeds), n] uniforms in (0, 1), a pure function of (seed, step, column): a
    counter-based generator, so drawing more columns never changes the first ones. `step` is
    one step for all rows or a tensor of one step per row (continuous batching, where rows
    that share a call have drawn different numbers of tokens); int64 arithmetic wraps like the
    scalar's reduction mod 2^64, so both give the same bits."""
    if isinstance(step, torch.Tensor):
        offset = (step.to(seeds.device).long() + 1) * _GOLDEN
    else:
        offset = _int64(_GOLDEN * (step + 1) % (1 << 64))
    key = _splitmix(seeds.long() + offset)
    x = _splitmix(key[:, None] + _GOLDEN * torch.arange(1, n + 1, device=seeds.device)[None, :])
    bits = (x >> 11) & ((1 << 53) - 1)
    return (bits.double() + 0.5) / float(1 << 53)


class SeededTopPSampler(LogitsProcessor):
    """Turns greedy decoding into tempered top-p sampling with one random stream per row.

    Each step, per row: p = softmax(logits / T); the nucleus is the smallest set of most likely
    tokens whose mass reaches top_p (rank r is in when the mass ranked before it is < top_p;
    a token tied with the last one is in too); the token is the inverse-CDF draw from the
    nucleus: u = counter_uniform(row seed, step, 1) · (nucleus mass), and the first token, in
    token-id order, whose running nucleus mass exceeds u. One uniform per row and step, so a
    row's draw depends on its own logits and seed only. Float32 arithmetic throughout (as in
    transformers' own top-p). The returned scores are 0 at the chosen token and −inf elsewhere,
    for the greedy step of `generate` to pick it.
    """

    def __init__(self, seeds: list[int], temperature: float, top_p: float):
        self.seeds = torch.tensor(seeds, dtype=torch.long)
        self.temperature, self.top_p = temperature, top_p
        self.step: int | torch.Tensor = 0  # the draw's index: one for all rows, or one per row

    def __call__(self, input_ids, scores: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(scores.float() / self.temperature, dim=-1)
        if self.top_p < 1.0:
            probs = probs.masked_fill(probs < nucleus_threshold(probs, self.top_p), 0.0)
        cdf = probs.cumsum(dim=-1)
        u = counter_uniform(self.seeds.to(scores.device), self.step, 1).float() * cdf[:, -1:]
        token = torch.searchsorted(cdf, u, right=True).clamp_(max=scores.shape[1] - 1)
        self.step = self.step + 1
        return torch.full_like(scores, -math.inf).scatter_(1, token, 0.0)


NUCLEUS_CANDIDATES = 256  # largest probabilities sorted first; rows whose nucleus is larger sort fully


def _threshold_from_sorted(desc: torch.Tensor, top_p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(smallest probability of the nucleus [B, 1], whether the nucleus ends inside `desc` [B])."""
    mass_before = desc.cumsum(dim=-1) - desc
    inside = mass_before < top_p
    size = inside.sum(dim=-1, keepdim=True)  # ≥ 1: rank 0 has mass 0 before it
    return desc.gather(1, size - 1), ~inside[:, -1]


def nucleus_threshold(
    probs: torch.Tensor, top_p: float, candidates: int = NUCLEUS_CANDIDATES
) -> torch.Tensor:
    """The smallest probability of each row's nucleus, [B, 1]: the nucleus is the ranks whose
    mass ranked before them is < top_p. Exact: the `candidates` largest probabilities are
    selected (np.partition, linear time) and only they are sorted; a row whose nucleus does not
    end among them (their mass before the last one is still < top_p) is sorted in full. The
    running sums over the sorted candidates are the first terms of the full running sums, so the
    result equals the full sort's bit for bit (tested)."""
    n = probs.shape[-1]
    if probs.device.type != "cpu" or candidates >= n:
        return _threshold_from_sorted(_sorted_descending(probs), top_p)[0]
    values = probs.numpy()
    top = np.partition(values, n - candidates, axis=-1)[:, n - candidates :]
    desc = torch.from_numpy(np.ascontiguousarray(np.sort(top, axis=-1)[:, ::-1]))
    threshold, complete = _threshold_from_sorted(desc, top_p)
    if not bool(complete.all()):
        rows = (~complete).nonzero().squeeze(1)
        threshold[rows] = _threshold_from_sorted(_sorted_descending(probs[rows]), top_p)[0]
    return threshold


def _sorted_descending(values: torch.Tensor) -> torch.Tensor:
    """Each row sorted from largest to smallest (values only). On CPU numpy's vectorised sort
    is an order of magnitude faster than torch.sort for [batch, vocab] float32 rows."""
    if values.device.type == "cpu":
        return torch.from_numpy(np.ascontiguousarray(np.sort(values.numpy(), axis=-1)[:, ::-1]))
    return torch.sort(values, dim=-1, descending=True).values


def eos_ids_of(model, tokenizer) -> list[int]:
    """The ids that end a row, sorted: the model's generation config's eos (else the
    tokenizer's) and the end-of-turn token of the chat template (a base checkpoint's eos is
    <|endoftext|> or <|end_of_text|>, not the <|im_end|> / <|eot_id|> / <end_of_turn> its
    template closes a turn with: without it a row runs on and invents further turns)."""
    from ..models.chat import end_of_turn_token

    eos = model.generation_config.eos_token_id
    if eos is None:
        eos = tokenizer.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos])
    turn_end = end_of_turn_token(tokenizer)
    if turn_end is not None:
        ids.add(tokenizer.convert_tokens_to_ids(turn_end))
    return sorted(ids)


def decode_batch(
    model,
    input_ids: torch.Tensor,
    mask: torch.Tensor,
    sampler: SeededTopPSampler | None,
    max_new_tokens: int,
    eos_ids: list[int],
    stats: DecodeStats | None = None,
) -> tuple[torch.Tensor, list[int]]:
    """Decode one left-padded batch with the KV cache: ([B, max_new_tokens] tokens, tokens per
    row including its eos). A row that emits eos leaves the batch (its cache rows are dropped),
    so each step costs only the unfinished rows; `model.generate` keeps finished rows to the
    end, which on the embedded corpus (most answers far shorter than the longest in their batch)
    made three quarters of the decoding work padding. Positions count real tokens only, as in
    `generate`. Greedy without a sampler; a row's draws depend on its seed and step only, so
    leaving the batch changes nothing for the others."""
    batch = input_ids.shape[0]
    tokens = torch.zeros((batch, max_new_tokens), dtype=torch.long, device=input_ids.device)
    lengths = [max_new_tokens] * batch
    eos = torch.tensor(eos_ids, device=input_ids.device)
    active = torch.arange(batch, device=input_ids.device)
    cache = DynamicCache(config=model.config)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    step_ids = input_ids
    for step in range(max_new_tokens):
        if stats is not None:
            stats.prefill_calls += step == 0
            stats.decode_steps += step > 0
            stats.row_steps += len(active) if step > 0 else 0
            stats.tokens += len(active)
        logits = last_logits(model, step_ids, mask, positions, cache)
        if sampler is not None:
            sampler.step = step
            logits = sampler(None, logits)
        chosen = logits.argmax(dim=-1)
        tokens[active, step] = chosen
        finished = torch.isin(chosen, eos)
        if bool(finished.any()):
            for row in active[finished].tolist():
                lengths[row] = step + 1
            keep = (~finished).nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            cache.batch_select_indices(keep)
            active, mask, positions, chosen = active[keep], mask[keep], positions[keep], chosen[keep]
            if sampler is not None:
                sampler.seeds = sampler.seeds[keep.cpu()]
        mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=1)
        positions = positions[:, -1:] + 1
        step_ids = chosen[:, None]
    return tokens, lengths


def length_order(prompts_ids: list[list[int]]) -> list[int]:
    """Prompt positions by length, longest first, ties in input order: the decoding order."""
    return sorted(range(len(prompts_ids)), key=lambda i: -len(prompts_ids[i]))


def decode_static_batches(
    model,
    prompts_ids: list[list[int]],
    seeds: list[int],
    max_new_tokens: int,
    *,
    batch_size: int,
    eos_ids: list[int],
    pad_id: int,
    sampling: tuple[float, float] | None,
    stats: DecodeStats | None = None,
) -> list[tuple[list[int], str]]:
    """The decode loop before continuous batching, kept as the reference the continuous loop is
    tested and benchmarked against: prompts in `length_order`, cut into batches of
    `batch_size`, each decoded by `decode_batch` until its last row ends. (generated ids
    without eos, "eos" | "length") per prompt, in input order."""
    order = length_order(prompts_ids)
    device = next(model.parameters()).device
    results: list = [None] * len(prompts_ids)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        width = max(len(prompts_ids[i]) for i in idx)
        input_ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            p = prompts_ids[i]
            input_ids[row, width - len(p) :] = torch.tensor(p)
            mask[row, width - len(p) :] = 1
        sampler = SeededTopPSampler([seeds[i] for i in idx], *sampling) if sampling is not None else None
        with torch.no_grad():
            tokens, lengths = decode_batch(
                model, input_ids.to(device), mask.to(device), sampler, max_new_tokens, eos_ids, stats
            )
        for row, i in enumerate(idx):
            gen = tokens[row, : lengths[row]].tolist()
            done = bool(gen) and gen[-1] in eos_ids
            results[i] = (gen[:-1], "eos") if done else (gen, "length")
    return results


def decode_config(gcfg: GenerationSettings, pad_id: int, eos_ids: list[int]) -> GenerationConfig:
    """The complete HF config of a generate call. Built from scratch so no model-specific
    default (a hub model's own temperature, top_k, repetition penalty …) leaks in."""
    return GenerationConfig(
        max_new_tokens=gcfg.max_new_tokens,
        do_sample=False,  # sampling happens in SeededTopPSampler
        num_beams=1,
        use_cache=True,
        repetition_penalty=1.0,
        pad_token_id=pad_id,
        eos_token_id=eos_ids,
    )


def generate_unbatched(
    model, tokenizer, prompts_ids: list[list[int]], gcfg: GenerationSettings
) -> list[list[int]]:
    """Reference path: one prompt at a time through plain `model.generate` (greedy), raw ids
    including eos. Used by the benchmark and the tests."""
    dconfig = decode_config(gcfg, tokenizer.pad_token_id, eos_ids_of(model, tokenizer))
    device = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for p in prompts_ids:
            ids = torch.tensor([p], device=device)
            gen = model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=dconfig
            )
            out.append(gen[0, len(p) :].tolist())
    return out
