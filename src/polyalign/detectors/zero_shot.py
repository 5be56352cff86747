"""Batched zero-shot detector scores from one pair of causal LMs that share a tokenizer.

`zero_shot_scores` gets the models of ONE pair (or of the detectors that use the same two
models: in the embedded profile BaseLM and SFT serve both Fast-DetectGPT and Binoculars, so the
two detectors cost two forward passes per batch, not four). Only the logits of scored response
positions are computed, packed as [tokens, V], and the vocabulary-wide sums run in float32 on
`CHUNK_ELEMENTS`-sized row chunks of them, so memory is set by the batch, not by how many
tokens the batch scores times the vocabulary. float32 is enough for these sums (the variance is
summed around its mean, `criteria`): against float64 the per-position terms agree to ~1e-6
relative, and the vocabulary pass runs twice as fast as in float64 (tests/detectors/test_criteria.py).

Texts are scored as the response of an example built by `features.lm_inputs.response_examples`
([start] + rendered prompt + response, or [start] + response without a prompt): only response
positions count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
from .settings import ModelPair

ZERO_SHOT_DETECTORS = ("fast_detectgpt", "binoculars")
# float32 log-probabilities held at once per model (row chunks of the packed logits)
CHUNK_ELEMENTS = 2**25


class PairVocabularyError(ValueError):
    """The two models of one detector pair do not share a vocabulary."""


def check_shared_vocabulary(tokenizers: Mapping[str, object], detector: str = "detector") -> None:
    """The two models of a pair compare distributions over one vocabulary: their tokenizers
    must agree (different pairs may use different tokenizers)."""
    items = list(tokenizers.items())
    ref_name, ref = items[0]
    ref_vocab = ref.get_vocab()
    for name, tok in items[1:]:
        vocab = tok.get_vocab()
        if vocab != ref_vocab:
            only = sorted(set(vocab.items()) ^ set(ref_vocab.items()))[:3]
            raise PairVocabularyError(
                f"{detector}: models {ref_name!r} ({len(ref_vocab)} tokens) and {name!r} "
                f"({len(vocab)} tokens) do not share a tokenizer (e.g. {only}); the two models of "
                "one detector pair need one vocabulary (each detector may have its own)"
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
        # one forward pass per model, shared by every criterion; float32 on row chunks
        logits = {key: _packed_logits(models[key], ids, mask, rows, cols) for key in needed}
        widths = {k: v.shape[-1] for k, v in logits.items()}
        if len(set(widths.values())) != 1:
            raise PairVocabularyError(f"detector models have different output vocabularies {widths}")
        step = max(1, CHUNK_ELEMENTS // next(iter(widths.values())))
        terms = {name: [] for name in pairs}
        for a in range(0, len(targets), step):
            logp = {k: torch.log_softmax(v[a : a + step].float(), dim=-1) for k, v in logits.items()}
            for name, pair in pairs.items():
                fn = (
                    fast_detectgpt_terms_from_logprobs
                    if name == "fast_detectgpt"
                    else binoculars_terms_from_logprobs
                )
                terms[name].append(fn(logp[pair.first], logp[pair.second], targets[a : a + step]))
            del logp
        del logits
        bounds = np.cumsum([0] + counts)
        for name in pairs:
            joined = {
                k: torch.cat([t[k] for t in terms[name]]).double().cpu().numpy() for k in terms[name][0]
            }
            for j, i in enumerate(idx):
                part = {k: v[bounds[j] : bounds[j + 1]] for k, v in joined.items()}
                if name == "fast_detectgpt":
                    out[name][i] = fast_detectgpt_criterion(part["log_p"], part["mu"], part["var"])
                else:
                    out[name][i] = binoculars_score(part["nll"], part["xent"])
    if "fast_detectgpt" in pairs:
        out["fast_detectgpt_p_ai"] = np.asarray(
            fast_detectgpt_probability(out["fast_detectgpt"]), dtype=float
        )
    return out
