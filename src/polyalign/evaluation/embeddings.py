"""MAUVE's encoder embeddings of a set of responses: computing them (`embed_texts`), the `.npz`
file that holds them (`save_embeddings`, `load_embedding_table`) and the table evaluation reads.
Apart from the evaluation rows so that an edit to how rows are aligned does not rerun the
encoder jobs (a GPU job at paper scale)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polyalign.io import InputError, atomic_path
from polyalign.text import normalize_text


@dataclass(frozen=True)
class EmbeddingTable:
    """Encoder embeddings of a set of responses: ids [n], E float [n, d], optional samples."""

    ids: list[str]
    E: np.ndarray
    samples: np.ndarray | None = None


def str_list(values) -> list[str]:
    """An array of ids (numpy strings) as a list of Python strings."""
    return [str(v) for v in np.asarray(values).tolist()]


def load_embedding_table(path) -> EmbeddingTable:
    """Read an `.npz` with arrays ids, E (and optionally samples)."""
    with np.load(path, allow_pickle=False) as z:
        missing = [k for k in ("ids", "E") if k not in z.files]
        if missing:
            raise InputError(f"{path}: missing array(s) {missing} (has {z.files})")
        table = EmbeddingTable(
            str_list(z["ids"]),
            np.asarray(z["E"], dtype=np.float64),
            np.asarray(z["samples"]) if "samples" in z.files else None,
        )
    if table.E.ndim != 2 or table.E.shape[0] != len(table.ids):
        raise InputError(f"{path}: E has shape {table.E.shape} for {len(table.ids)} ids")
    return table


def embed_texts(model, tokenizer, texts: list[str], batch_size: int, max_length: int) -> np.ndarray:
    """Mean-pooled last hidden state of every text (NaN rows: empty texts, left out of MAUVE)."""
    from polyalign.critic.encoder import (
        encode_responses,  # torch: imported only when embedding
    )

    keep = [i for i, t in enumerate(texts) if normalize_text(t)]
    E = np.full((len(texts), model.config.hidden_size), np.nan, dtype=np.float32)
    if keep:
        E[keep] = encode_responses(
            model,
            tokenizer,
            [normalize_text(texts[i]) for i in keep],
            batch_size=batch_size,
            max_length=max_length,
        )
    return E


def save_embeddings(path, ids: list[str], E: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, ids=np.asarray(ids, dtype=str), E=np.asarray(E, dtype=np.float32))


def embed_file(records_path, generations_path, encoder: str, device, batch_size: int, max_length: int):
    """(ids, E): `embed_texts` of a system's generations (`answer`), or of the records' human
    answers when generations_path is None, under `encoder` (a path or hub id)."""
    from polyalign.io import read_jsonl
    from polyalign.models.runtime import load_encoder

    model, tokenizer = load_encoder(encoder, device=device)
    if generations_path:
        rows = read_jsonl(generations_path)
        ids, texts = [g["id"] for g in rows], [g["answer"] for g in rows]
    else:
        rows = read_jsonl(records_path)
        ids, texts = [r["id"] for r in rows], [r["human_answer"] for r in rows]
    return ids, embed_texts(model, tokenizer, texts, batch_size, max_length)
