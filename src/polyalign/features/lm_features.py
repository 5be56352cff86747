"""LM features of a response under a scoring causal LM (docs/method.md §3, group "lm").

Per response, over its tokens: conditional NLL (given [start] + rendered prompt) and
unconditional NLL (given [start] only) mean / population std / min / max, perplexity
exp(mean NLL) capped at `max_ppl`, and the conditional log-prob gain
(uncond NLL mean - cond NLL mean, > 0 when the prompt makes the response more likely).
NLLs are in nats per token.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ..models.position_logits import position_logits
from ..progress import progress_bar
from .lm_inputs import (
    LMExample,
    model_device,
    model_max_length,
    padded_batches,
    response_examples,
    scored_positions,
)
from .spec import MAX_PPL, FeatureError, describe_row, lm_feature_names


@torch.no_grad()
def token_nlls(
    model, examples: Sequence[LMExample], batch_size: int = 8, progress: bool = False, desc: str = "lm nll"
) -> list[np.ndarray]:
    """Per example, the NLL (nats, float64) of each scored response token, in order."""
    was_training = model.training
    model.eval()
    device = model_device(model)
    out: list[np.ndarray | None] = [None] * len(examples)
    batches = padded_batches(examples, batch_size, device=device)
    if progress:
        batches = progress_bar(batches, total=math.ceil(len(examples) / batch_size), desc=desc, mininterval=5)
    try:
        for idx, ids, mask in batches:
            spans = [scored_positions(examples[i]) for i in idx]
            # logits at position t-1 predict the token at position t: the vocabulary
            # projection runs on those rows only (prompts are most of the tokens), and
            # log_softmax (float32) on [scored tokens, V], not on [B, L, V]
            keep = torch.zeros_like(ids, dtype=torch.bool)
            for row, pos in enumerate(spans):
                keep[row, pos.start - 1 : pos.stop - 1] = len(pos) > 0
            counts = [len(pos) for pos in spans]
            if sum(counts) == 0:
                for i in idx:
                    out[i] = np.zeros(0)
                continue
            logits = position_logits(model, keep, input_ids=ids, attention_mask=mask).float()
            targets = torch.cat([ids[row, pos.start : pos.stop] for row, pos in enumerate(spans)])
            nll = -torch.log_softmax(logits, dim=-1).gather(1, targets[:, None])[:, 0]
            for i, part in zip(idx, torch.split(nll.double().cpu(), counts)):
                out[i] = part.numpy()
    finally:
        model.train(was_training)
    return out  # type: ignore[return-value]


def _stats(nll: np.ndarray, max_ppl: float) -> list[float]:
    mean = float(nll.mean())
    return [
        mean,
        float(nll.std()),
        float(nll.min()),
        float(nll.max()),
        float(min(math.exp(min(mean, 700.0)), max_ppl)),
    ]


def lm_features(
    model,
    tokenizer,
    prompts: Sequence[str],
    responses: Sequence[str],
    batch_size: int = 8,
    max_ppl: float = MAX_PPL,
    max_length: int | None = None,
    ids: Sequence[str] | None = None,
    progress: bool = False,
) -> np.ndarray:
    """float64 [n, 11] in `lm_feature_names()` order.

    `prompts` are the already rendered prompt strings (chat template applied). `max_length`
    defaults to the model's max_position_embeddings; longer inputs keep the first response
    tokens and the last prompt tokens. A response with no scorable token raises FeatureError.
    """
    if len(prompts) != len(responses):
        raise FeatureError(f"{len(prompts)} prompts but {len(responses)} responses")
    for i, r in enumerate(responses):
        if not isinstance(r, str) or not r.strip():
            raise FeatureError(f"{describe_row(i, ids)}: empty response has no LM features")
    max_length = model_max_length(model, max_length)
    cond = token_nlls(
        model,
        response_examples(tokenizer, responses, prompts, max_length),
        batch_size,
        progress,
        "lm nll (conditional)",
    )
    uncond = token_nlls(
        model,
        response_examples(tokenizer, responses, None, max_length),
        batch_size,
        progress,
        "lm nll (unconditional)",
    )
    rows = []
    for i, (c, u) in enumerate(zip(cond, uncond)):
        if len(c) == 0 or len(u) == 0:
            raise FeatureError(
                f"{describe_row(i, ids)}: response has no scorable token "
                "(tokenizer without bos/eos and a one-token response?)"
            )
        c_stats, u_stats = _stats(c, max_ppl), _stats(u, max_ppl)
        rows.append(c_stats + u_stats + [u_stats[0] - c_stats[0]])
    matrix = np.array(rows, dtype=np.float64).reshape(len(responses), len(lm_feature_names()))
    if not np.isfinite(matrix).all():
        bad = sorted(set(np.nonzero(~np.isfinite(matrix))[0].tolist()))
        raise FeatureError("non-finite LM features for " + ", ".join(describe_row(i, ids) for i in bad[:5]))
    return matrix
