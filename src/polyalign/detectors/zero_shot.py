"""Batched zero-shot detector scores from causal LMs that share a tokenizer.

Each distinct model runs once per batch; every criterion that uses it reads the same logits (in
the embedded profile, BaseLM and SFT serve both Fast-DetectGPT and Binoculars, so the two
detectors cost two forward passes per batch, not four). Only the logits of scored response
positions are kept, packed as [tokens, V], and the vocabulary-wide sums run in float64 on them.

Texts are scored as the response of an example built by `features.lm_inputs.build_examples`
([start] + rendered prompt + response, or [start] + response without a prompt): only response
positions count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..features.lm_inputs import (
    LMExample,
    model_device,
    padded_batches,
    scored_positions,
)
from ..models.position_logits import position_logits
from .criteria import (
    binoculars_score,
    binoculars_terms_from_logprobs,
    fast_detectgpt_criterion,
    fast_detectgpt_probability,
    fast_detectgpt_terms_from_logprobs,
)

ZERO_SHOT_DETECTORS = ("fast_detectgpt", "binoculars")
# Direction of each detector's score: True when a higher score means more AI-like.
HIGHER_IS_AI = {"fast_detectgpt": True, "binoculars": False, "trained": True}


@dataclass(frozen=True)
class ModelPair:
    """The two model keys of a detector: (scoring, sampling) for Fast-DetectGPT, (observer,
    performer) for Binoculars."""

    first: str
    second: str


def check_shared_vocabulary(tokenizers: Mapping[str, object]) -> None:
    """Every detector pair compares distributions over one vocabulary: the tokenizers must agree."""
    items = list(tokenizers.items())
    ref_name, ref = items[0]
    ref_vocab = ref.get_vocab()
    for name, tok in items[1:]:
        if tok.get_vocab() != ref_vocab:
            raise ValueError(
                f"detector models {ref_name!r} and {name!r} do not share a tokenizer "
                "(their vocabularies differ); the criteria need one vocabulary"
            )


def _packed_logits(
    model, ids: torch.Tensor, mask: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor
) -> torch.Tensor:
    """Logits at the positions that predict the scored tokens (position t-1 predicts t), [N, V]."""
    keep = torch.zeros_like(ids, dtype=torch.bool)
    keep[rows, cols - 1] = True
    return position_logits(model, keep, input_ids=ids, attention_mask=mask)


@torch.no_grad()
def zero_shot_scores(
    models: Mapping[str, torch.nn.Module],
    pairs: Mapping[str, ModelPair],
    examples: Sequence[LMExample],
    batch_size: int = 32,
    pad_id: int = 0,
) -> dict:
    """Scores of every example under every detector in `pairs` (fast_detectgpt, binoculars).

    Returns {"n_tokens": int [n], "fast_detectgpt": c [n], "fast_detectgpt_p_ai": [n],
    "binoculars": B [n]} (float64; NaN for an example with no scored response token).
    """
    unknown = set(pairs) - set(ZERO_SHOT_DETECTORS)
    if unknown:
        raise ValueError(f"unknown zero-shot detector(s) {sorted(unknown)} (known: {ZERO_SHOT_DETECTORS})")
    needed = sorted({k for p in pairs.values() for k in (p.first, p.second)})
    missing = [k for k in needed if k not in models]
    if missing:
        raise ValueError(f"detector pairs name model(s) {missing} that were not loaded ({sorted(models)})")
    n = len(examples)
    out = {"n_tokens": np.zeros(n, dtype=np.int64)}
    for name in pairs:
        out[name] = np.full(n, np.nan)
    device = model_device(models[needed[0]])
    for idx, ids, mask in padded_batches(examples, batch_size, pad_id=pad_id, device=device):
        spans = [scored_positions(examples[i]) for i in idx]
        counts = [len(s) for s in spans]
        for i, c in zip(idx, counts):
            out["n_tokens"][i] = c
        if sum(counts) == 0:
            continue
        rows = torch.tensor([r for r, s in enumerate(spans) for _ in s], device=device)
        cols = torch.tensor([t for s in spans for t in s], device=device)
        targets = ids[rows, cols]
        # one forward pass and one float64 log-softmax per model, shared by every criterion
        logp = {
            key: torch.log_softmax(_packed_logits(models[key], ids, mask, rows, cols).double(), dim=-1)
            for key in needed
        }
        widths = {k: v.shape[-1] for k, v in logp.items()}
        if len(set(widths.values())) != 1:
            raise ValueError(f"detector models have different output vocabularies {widths}")
        bounds = np.cumsum([0] + counts)
        for name, pair in pairs.items():
            if name == "fast_detectgpt":
                terms = fast_detectgpt_terms_from_logprobs(logp[pair.first], logp[pair.second], targets)
            else:
                terms = binoculars_terms_from_logprobs(logp[pair.first], logp[pair.second], targets)
            terms = {k: v.cpu().numpy() for k, v in terms.items()}
            for j, i in enumerate(idx):
                part = {k: v[bounds[j] : bounds[j + 1]] for k, v in terms.items()}
                if name == "fast_detectgpt":
                    out[name][i] = fast_detectgpt_criterion(part["log_p"], part["mu"], part["var"])
                else:
                    out[name][i] = binoculars_score(part["nll"], part["xent"])
    if "fast_detectgpt" in pairs:
        out["fast_detectgpt_p_ai"] = np.asarray(
            fast_detectgpt_probability(out["fast_detectgpt"]), dtype=float
        )
    return out
