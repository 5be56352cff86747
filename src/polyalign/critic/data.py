"""Critic training rows: validation, the seeded held-out split by prompt id, and the
(human, model) pairs of each prompt."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..io import InputError
from ..text import normalize_text

SOURCES = ("human", "model")


@dataclass
class CriticData:
    prompt_ids: list[str]
    bucket_ids: list[str]
    texts: list[str]  # normalized
    sources: list[str]
    targets: np.ndarray  # float64 [n]
    prompts: list[str] | None


def validate_rows(rows: Sequence[dict], need_prompts: bool = False) -> CriticData:
    """Check every row (id, bucket_id, text, source in {human, model}, finite target; prompt
    when the critic is prompt-conditioned) and return them column-wise, texts normalized."""
    if not rows:
        raise InputError("critic: no training rows")
    required = ("id", "bucket_id", "text", "source", "target") + (("prompt",) if need_prompts else ())
    cols = {k: [] for k in required}
    for i, row in enumerate(rows):
        for key in required:
            if key not in row:
                raise InputError(f"critic row {i}: missing field {key!r}")
        if row["source"] not in SOURCES:
            raise InputError(f"critic row {i} (id {row['id']!r}): source {row['source']!r} not in {SOURCES}")
        try:
            target = float(row["target"])
        except (TypeError, ValueError):
            target = math.nan
        if not math.isfinite(target):
            raise InputError(
                f"critic row {i} (id {row['id']!r}): target {row['target']!r} is not a finite number"
            )
        text = normalize_text(row["text"]) if isinstance(row["text"], str) else ""
        if not text:
            raise InputError(f"critic row {i} (id {row['id']!r}): empty text")
        for key in required:
            cols[key].append(row[key])
        cols["text"][-1], cols["target"][-1] = text, target
    return CriticData(
        [str(x) for x in cols["id"]],
        [str(b) for b in cols["bucket_id"]],
        cols["text"],
        cols["source"],
        np.array(cols["target"], dtype=np.float64),
        cols.get("prompt"),
    )


def heldout_mask(prompt_ids: Sequence[str], fraction: float, seed: int) -> np.ndarray:
    """True for rows whose prompt id hashes into the held-out share (the same rule as the
    corpus split, docs/method.md §2): u = int(md5(f"{seed}:{id}")[:8], 16) / 0xFFFFFFFF < fraction.
    All rows of one prompt land on the same side."""

    def u(pid: str) -> float:
        return int(hashlib.md5(f"{seed}:{pid}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF

    cache: dict[str, bool] = {}
    return np.array([cache.setdefault(p, u(p) < fraction) for p in prompt_ids], dtype=bool)


def prompt_pairs(prompt_ids: Sequence[str], sources: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(human row index, model row index) for every human x model combination of a prompt."""
    by_prompt: dict[str, tuple[list[int], list[int]]] = {}
    for i, (pid, src) in enumerate(zip(prompt_ids, sources)):
        by_prompt.setdefault(pid, ([], []))[0 if src == "human" else 1].append(i)
    human, model = [], []
    for h_rows, m_rows in by_prompt.values():
        for h in h_rows:
            for m in m_rows:
                human.append(h)
                model.append(m)
    return np.array(human, dtype=np.int64), np.array(model, dtype=np.int64)


def prompt_groups(prompt_ids: Sequence[str]) -> list[np.ndarray]:
    """Row indices of each prompt, in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for i, pid in enumerate(prompt_ids):
        groups.setdefault(pid, []).append(i)
    return [np.array(g, dtype=np.int64) for g in groups.values()]
