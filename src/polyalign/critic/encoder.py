"""The frozen encoder of the critic: a causal LM whose last hidden state is mean-pooled over
the response tokens (attention-masked; prompt and start tokens excluded)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ..config import block_defaults
from ..features.lm_inputs import model_device, padded_batches, response_examples
from ..progress import progress_bar

# Keyword defaults are the config schema's critic block (the one place they are written).
_CRITIC = block_defaults("critic")


def _last_hidden_state(model, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    base = getattr(model, "base_model", model)
    if base is not model:  # skip the LM head: its logits are not needed here
        return base(input_ids=ids, attention_mask=mask).last_hidden_state
    return model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[-1]


@torch.no_grad()
def encode_responses(
    model,
    tokenizer,
    texts: Sequence[str],
    prompts: Sequence[str] | None = None,
    batch_size: int = _CRITIC["encoder_batch_size"],
    max_length: int | None = _CRITIC["max_length"],
    progress: bool = False,
) -> np.ndarray:
    """float32 [n, hidden]: mean of the last hidden state over each response's tokens.

    With `prompts`, the response is encoded after [start] + prompt (its tokens still the only
    ones pooled); without, after the start token alone. Empty texts raise ValueError.
    """
    for i, t in enumerate(texts):
        if not isinstance(t, str) or not t.strip():
            raise ValueError(f"row {i}: empty response cannot be encoded")
    examples = response_examples(tokenizer, texts, prompts, max_length)
    hidden = model.config.hidden_size
    out = np.zeros((len(examples), hidden), dtype=np.float32)
    was_training = model.training
    model.eval()
    batches = padded_batches(examples, batch_size, device=model_device(model))
    if progress:
        batches = progress_bar(
            batches, total=math.ceil(len(examples) / batch_size), desc="critic embeddings", mininterval=5
        )
    try:
        for idx, ids, mask in batches:
            states = _last_hidden_state(model, ids, mask).float()
            positions = torch.arange(ids.shape[1], device=ids.device)[None, :]
            starts = torch.tensor([examples[i].response_start for i in idx], device=ids.device)[:, None]
            pool = (mask.bool() & (positions >= starts)).float()
            pooled = (states * pool[..., None]).sum(1) / pool.sum(1, keepdim=True)
            out[idx] = pooled.cpu().numpy()
    finally:
        model.train(was_training)
    return out
