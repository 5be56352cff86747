"""Response embeddings for MAUVE: the mean-pooled last hidden state of a configurable encoder
(embedded default: the bilingual BaseLM; paper scale: a multilingual encoder from the config).
Rows that cannot be encoded (empty generations) get NaN and are left out of MAUVE, counted."""
from __future__ import annotations

import numpy as np

from ..critic.encoder import encode_responses
from ..io import atomic_path
from ..text import normalize_text


def embed_texts(model, tokenizer, texts: list[str], batch_size: int, max_length: int) -> np.ndarray:
    keep = [i for i, t in enumerate(texts) if normalize_text(t)]
    E = np.full((len(texts), model.config.hidden_size), np.nan, dtype=np.float32)
    if keep:
        E[keep] = encode_responses(model, tokenizer, [normalize_text(texts[i]) for i in keep],
                                   batch_size=batch_size, max_length=max_length)
    return E


def save_embeddings(path, ids: list[str], E: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, ids=np.asarray(ids, dtype=str), E=np.asarray(E, dtype=np.float32))
