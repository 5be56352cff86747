"""The pre-training text as model input: rendered documents, tokenized and packed into blocks.

An English conversation is rendered as a chat dialogue (turns alternate user/assistant through the
tokenizer's chat template), so the BaseLM meets the chat format on real human turns; a Chinese
review or news paragraph is plain text between bos and eos. The token streams of all documents are
concatenated in order and cut into blocks of exactly `block` tokens (the last, shorter remainder
is dropped): no padding, every position is a training token. A block may hold the end of one
document and the start of the next (standard packing; eos marks the boundary).
"""

from __future__ import annotations

from .data import Example

ROLES = ("user", "assistant")


def document_texts(documents: list[dict]) -> list[str]:
    """Every segment of every document (the tokenizer's training texts)."""
    return [seg for doc in documents for seg in doc["segments"]]


def render_document(doc: dict, tokenizer) -> str:
    if doc["source"] == "chitchat":
        messages = [{"role": ROLES[i % 2], "content": t} for i, t in enumerate(doc["segments"])]
        return tokenizer.apply_chat_template(messages, tokenize=False)
    return f"{tokenizer.bos_token}{''.join(doc['segments'])}{tokenizer.eos_token}"


def pack_blocks(streams: list[list[int]], block: int) -> list[list[int]]:
    """Concatenate the token streams and cut them into blocks of `block` tokens."""
    if block < 2:
        raise ValueError(f"block must be at least 2 tokens, got {block}")
    flat = [t for s in streams for t in s]
    return [flat[i : i + block] for i in range(0, len(flat) - block + 1, block)]


def packed_examples(documents: list[dict], tokenizer, block: int) -> list[Example]:
    """Language-model examples (labels = inputs) of the packed pre-training text."""
    if tokenizer.bos_token is None or tokenizer.eos_token is None:
        raise ValueError("packing the pre-training text needs a tokenizer with bos and eos tokens")
    texts = [render_document(d, tokenizer) for d in documents]
    streams = tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []
    return [
        Example(f"pretrain_text:{i}", ids, list(ids)) for i, ids in enumerate(pack_blocks(streams, block))
    ]
