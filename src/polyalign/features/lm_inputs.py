"""Token inputs for scoring a response with a causal LM (LM features and the critic encoder).

The context (start token + rendered prompt) and the response are tokenized separately and their
ids concatenated, so the response boundary is exact whatever the tokenizer would merge across
it. Batches are right-padded with an attention mask: under a causal mask, real tokens never see
the padding and positions stay 0..len-1, so results do not depend on the batch composition.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class LMExample:
    ids: list[int]
    response_start: int  # index in `ids` of the first response token


def start_token_id(tokenizer) -> int | None:
    """The token every context starts with: bos, else eos (Qwen-style tokenizers have no bos and
    separate pre-training documents with eos), else None (the first response token of an
    unconditional example is then not scored)."""
    for tid in (tokenizer.bos_token_id, tokenizer.eos_token_id):
        if tid is not None:
            return int(tid)
    return None


def _token_ids(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    if not texts:
        return []
    return [list(x) for x in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]


def response_examples(
    tokenizer,
    responses: Sequence[str],
    prompts: Sequence[str] | None = None,
    max_length: int | None = None,
    max_response_tokens: int | None = None,
) -> list[LMExample]:
    """One example per response: [start] + prompt ids + response ids.

    A rendered prompt that already begins with the start token does not get a second one.
    A response keeps its first `max_response_tokens` tokens (None: all). Over `max_length`, the
    response keeps its first tokens and the prompt its last tokens (the start token always stays).
    """
    start = start_token_id(tokenizer)
    head = [start] if start is not None else []
    response_ids = _token_ids(tokenizer, responses)
    prompt_ids = _token_ids(tokenizer, prompts) if prompts is not None else [[]] * len(responses)
    examples = []
    for resp, prompt in zip(response_ids, prompt_ids):
        if head and prompt[:1] == head:
            prompt = prompt[1:]
        if max_response_tokens is not None:
            resp = resp[:max_response_tokens]
        if max_length is not None:
            resp = resp[: max(max_length - len(head), 1)]
            keep = max(max_length - len(head) - len(resp), 0)
            prompt = prompt[len(prompt) - keep :] if keep < len(prompt) else prompt
        context = head + prompt
        examples.append(LMExample(context + resp, len(context)))
    return examples


def scored_positions(example: LMExample) -> range:
    """Positions of response tokens that have a preceding token to be predicted from."""
    return range(max(example.response_start, 1), len(example.ids))


def padded_batches(
    examples: Sequence[LMExample], batch_size: int, pad_id: int = 0, device: torch.device | str = "cpu"
) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
    """Yield (example indices, input_ids [B, L], attention_mask [B, L]), longest first so that
    each batch holds similar lengths. Callers put results back by the indices."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    order = sorted(range(len(examples)), key=lambda i: (-len(examples[i].ids), i))
    for b in range(0, len(order), batch_size):
        idx = order[b : b + batch_size]
        width = max(len(examples[i].ids) for i in idx)
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            n = len(examples[i].ids)
            ids[row, :n] = torch.tensor(examples[i].ids, dtype=torch.long)
            mask[row, :n] = 1
        yield idx, ids.to(device), mask.to(device)


def model_max_length(model, max_length: int | None) -> int | None:
    if max_length is not None:
        return max_length
    return getattr(getattr(model, "config", None), "max_position_embeddings", None)


def model_device(model) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")
