"""Tokenised preference pairs and their collation into ONE concatenated chosen+rejected batch.

The reference cache and the trainer both tokenise through `tokenize_pairs`, so the reference
log-probs are computed on exactly the token sequences the policy is trained on; every cache row
carries a hash of those tokens and training refuses a cache whose hash differs.

A sequence is `encode_prompt(pair.prompt)` + response (+ eos), cut to `max_length` by
`train.data.make_example` (the SFT rule: a cut response gets no eos). The rejected side gets an
eos only when its generation ended on eos (`rejected_finished`): a sample stopped by
max_new_tokens is a prefix, and its log-prob is the log-prob of that prefix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..prompts import encode_prompt
from ..train.data import Example, collate, make_example
from ..train.logprobs import PAIR_KEYS, concat_pair_batch, prompt_length, shared_prompt_batch


@dataclass
class PairExample:
    id: str
    chosen: Example
    rejected: Example
    s_pos: float = 0.0
    s_neg: float = 0.0
    weight: float = 1.0
    ref_chosen: float | None = None
    ref_rejected: float | None = None

    def row_length(self, shared_prompt: bool) -> int:
        """Tokens this pair puts in a batch row: prompt + chosen + bridge + rejected in the
        shared-prompt layout, the longer side in the two-row one. Batches grouped by it carry
        the least padding (grouping the shared rows by their longer side padded 14 % more)."""
        if not shared_prompt:
            return max(len(self.chosen.input_ids), len(self.rejected.input_ids))
        prompt = prompt_length(self.chosen.labels)
        return len(self.chosen.input_ids) + 1 + len(self.rejected.input_ids) - prompt

    def token_hash(self) -> str:
        h = hashlib.sha1()
        for ex in (self.chosen, self.rejected):
            h.update(np.int64(len(ex.input_ids)).tobytes())
            h.update(np.asarray(ex.input_ids, dtype=np.int64).tobytes())
            h.update(np.asarray(ex.labels, dtype=np.int64).tobytes())
        return h.hexdigest()[:16]


def tokenize_pair(pair: dict, tokenizer, max_length: int) -> PairExample:
    prompt_ids = encode_prompt(pair["prompt"], tokenizer)
    eos = tokenizer.eos_token_id

    def side(text: str, eos_allowed: bool) -> Example:
        answer = tokenizer(text, add_special_tokens=False)["input_ids"]
        ex = make_example(pair["id"], prompt_ids, answer, eos, max_length, loss_on_prompt=False)
        if not eos_allowed and len(ex.input_ids) == len(prompt_ids) + len(answer) + 1:
            ex.input_ids, ex.labels = ex.input_ids[:-1], ex.labels[:-1]  # unfinished sample: no eos
        return ex

    return PairExample(
        id=pair["id"],
        chosen=side(pair["chosen"], True),
        rejected=side(pair["rejected"], bool(pair.get("rejected_finished", True))),
        s_pos=float(pair.get("s_pos", 0.0)),
        s_neg=float(pair.get("s_neg", 0.0)),
        weight=float(pair.get("weight", 1.0)),
    )


def tokenize_pairs(pairs: Sequence[dict], tokenizer, max_length: int) -> list[PairExample]:
    if tokenizer.eos_token_id is None:
        raise ValueError("tokenizer has no eos token")
    seen = set()
    for p in pairs:
        if p["id"] in seen:
            raise ValueError(f"duplicate pair id {p['id']!r}")
        seen.add(p["id"])
    return [tokenize_pair(p, tokenizer, max_length) for p in pairs]


def collate_pairs(items: Sequence[PairExample], pad_id: int, shared_prompt: bool) -> dict[str, torch.Tensor]:
    """The pairs' rows (`train.logprobs`: K shared-prompt rows, or 2K right-padded rows with
    chosen [:K] and rejected [K:]) plus the K per-pair constants s_pos, s_neg, weights and, when
    every item has them, ref_chosen / ref_rejected."""
    if shared_prompt:
        batch = shared_prompt_batch(
            [(it.chosen.input_ids, it.chosen.labels) for it in items],
            [(it.rejected.input_ids, it.rejected.labels) for it in items],
            pad_id,
        )
    else:
        halves = []
        for side in ("chosen", "rejected"):
            b = collate([getattr(it, side) for it in items], pad_id)
            halves.append({k: b[k] for k in PAIR_KEYS})
        batch, _ = concat_pair_batch(halves[0], halves[1], pad_id, padding_side="right")
    batch["s_pos"] = torch.tensor([it.s_pos for it in items], dtype=torch.float32)
    batch["s_neg"] = torch.tensor([it.s_neg for it in items], dtype=torch.float32)
    batch["weights"] = torch.tensor([it.weight for it in items], dtype=torch.float32)
    if all(it.ref_chosen is not None for it in items):
        batch["ref_chosen"] = torch.tensor([it.ref_chosen for it in items], dtype=torch.float32)
        batch["ref_rejected"] = torch.tensor([it.ref_rejected for it in items], dtype=torch.float32)
    return batch


def pairs_fingerprint(items: Sequence[PairExample], extra: str = "") -> str:
    """Hash of every token, constant and reference log-prob (a resume must see the same data)."""
    h = hashlib.sha256(extra.encode())
    for it in items:
        h.update(it.id.encode() + b"\0" + it.token_hash().encode())
        h.update(
            np.asarray(
                [it.s_pos, it.s_neg, it.weight, it.ref_chosen or 0.0, it.ref_rejected or 0.0],
                dtype=np.float64,
            ).tobytes()
        )
    return h.hexdigest()[:16]
