"""Tokenised training examples, their collation, and the seeded order of micro-batches.

An example is prompt ids + response ids + eos with labels −100 on the prompt (SFT) or on
nothing (base pretraining), and a per-example loss weight. Prompts come from
`polyalign.prompts.render_prompt`, the same renderer generation uses, so train and test
prompts of a system are identical token for token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from ..config import schema_default
from ..prompts import render_prompt_ids

IGNORE_INDEX = -100


@dataclass
class Example:
    id: str
    input_ids: list[int]
    labels: list[int]
    weight: float = 1.0


def make_example(
    record_id: str,
    prompt_ids: list[int],
    answer_ids: list[int],
    eos_id: int,
    max_length: int,
    loss_on_prompt: bool,
) -> Example:
    """Prompt + answer + eos, cut to `max_length`. A cut answer gets no eos (the model must
    not learn to stop where the cut happened)."""
    room = max_length - len(prompt_ids)
    if room < 1:
        raise ValueError(
            f"record {record_id}: prompt of {len(prompt_ids)} tokens leaves no room in max_length={max_length}"
        )
    response = answer_ids + [eos_id] if len(answer_ids) + 1 <= room else answer_ids[:room]
    ids = prompt_ids + response
    labels = list(ids) if loss_on_prompt else [IGNORE_INDEX] * len(prompt_ids) + response
    return Example(record_id, ids, labels)


def build_examples(
    records: list[dict],
    tokenizer,
    style: str = "plain",
    *,
    max_length: int,
    max_prompt_tokens: int,
    max_history_turns: int | None = None,
    profile_length: str = schema_default("profile_length"),
    loss_on_prompt: bool = False,
    weights=None,
    system: str | None = None,
) -> list[Example]:
    """One example per record. Training prompts of the profile style carry the record's own
    length bin (the bin of its target: conditioning, not leakage); with profile_length=none the
    length is left out of training prompts too, so train and test formats agree."""
    if tokenizer.eos_token_id is None:
        raise ValueError("tokenizer has no eos token")
    out = []
    for i, r in enumerate(records):
        length_bin = None if profile_length == "none" else r.get("length_bin")
        _, prompt_ids = render_prompt_ids(
            r, tokenizer, system, style, length_bin, max_prompt_tokens, max_history_turns
        )
        answer_ids = tokenizer(r["human_answer"], add_special_tokens=False)["input_ids"]
        ex = make_example(r["id"], prompt_ids, answer_ids, tokenizer.eos_token_id, max_length, loss_on_prompt)
        if weights is not None:
            ex.weight = float(weights[i])
        out.append(ex)
    return out


def collate(examples: list[Example], pad_id: int, padding_side: str = "right") -> dict[str, torch.Tensor]:
    """Padded batch: input_ids, attention_mask, labels (−100 on padding), weights (SFT pads on
    the left, like generation; its loss projects only the label positions, `sft.sft_loss`)."""
    width = max(len(e.input_ids) for e in examples)
    n = len(examples)
    input_ids = torch.full((n, width), pad_id, dtype=torch.long)
    labels = torch.full((n, width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    for i, e in enumerate(examples):
        k = len(e.input_ids)
        cols = slice(0, k) if padding_side == "right" else slice(width - k, width)
        input_ids[i, cols] = torch.tensor(e.input_ids)
        labels[i, cols] = torch.tensor(e.labels)
        mask[i, cols] = 1
    weights = torch.tensor([e.weight for e in examples], dtype=torch.float32)
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels, "weights": weights}


def epoch_batches(
    n: int,
    batch_size: int,
    seed: int,
    epoch: int,
    lengths=None,
    sample_weights=None,
    group_batches: int = 32,
) -> list[list[int]]:
    """The micro-batches of one epoch, a pure function of (seed, epoch): a resumed run replays
    exactly the order of an uninterrupted one.

    Without `sample_weights` the epoch is a permutation of the n examples; with them it is n
    draws with replacement, p_i ∝ w_i (Bucket-SFT's weighted sampler). With `lengths`, windows of
    `group_batches` batches are sorted by length before batching (less padding) and the batches
    are then shuffled, so batch composition is length-homogeneous but batch order stays random.
    """
    rng = np.random.default_rng([seed, epoch])
    if sample_weights is None:
        order = rng.permutation(n)
    else:
        w = np.asarray(sample_weights, dtype=np.float64)
        order = rng.choice(n, size=n, replace=True, p=w / w.sum())
    if lengths is None:
        return [order[i : i + batch_size].tolist() for i in range(0, n, batch_size)]
    lengths = np.asarray(lengths)
    window = batch_size * group_batches
    batches = []
    for start in range(0, n, window):
        chunk = order[start : start + window]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size].tolist() for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def examples_fingerprint(examples: list[Example]) -> str:
    """A hash of every token, label and weight: a resume must see the same training data."""
    h = hashlib.sha256()
    for e in examples:
        h.update(np.int64(len(e.input_ids)).tobytes())
        h.update(np.asarray(e.input_ids, dtype=np.int64).tobytes())
        h.update(np.asarray(e.labels, dtype=np.int64).tobytes())
        h.update(np.float64(e.weight).tobytes())
    return h.hexdigest()[:16]
