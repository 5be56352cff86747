"""Training the critic head on precomputed frozen embeddings, with a held-out report and the
collapse check (docs/method.md §5)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..config import block_defaults
from ..io import InputError
from .bundle import save_bundle
from .data import heldout_mask, prompt_groups, prompt_pairs, validate_rows
from .head import CriticHead, critic_loss, inverse_transform, predict, transform_targets

TARGET_TRANSFORMS = ("none", "log1p")
# Defaults are the config schema's critic block (the one place they are written).
_CRITIC = block_defaults("critic")


class CriticCollapsed(RuntimeError):
    """The held-out critic scores are (nearly) constant; `metrics` holds the report."""

    def __init__(self, message: str, metrics: dict):
        super().__init__(message)
        self.metrics = metrics


@dataclass
class CriticSettings:
    conditioning: str = _CRITIC["conditioning"]  # "response" (c(y, b)) or "prompt" (encode x + y, pool y)
    max_length: int = _CRITIC["max_length"]  # encoder tokens per example
    encoder_batch_size: int = _CRITIC["encoder_batch_size"]
    bucket_dim: int = _CRITIC["bucket_dim"]
    mlp_dims: tuple[int, ...] = tuple(_CRITIC["mlp_dims"])
    dropout: float = _CRITIC["dropout"]
    epochs: int = _CRITIC["epochs"]
    batch_prompts: int = _CRITIC["batch_prompts"]  # prompts per step; all rows of a prompt share a batch
    lr: float = _CRITIC["lr"]
    weight_decay: float = _CRITIC["weight_decay"]
    margin: float = _CRITIC["margin"]
    rank_weight: float = _CRITIC["rank_weight"]
    target_transform: str = _CRITIC["target_transform"]  # "log1p" trains on log1p(D) for heavy-tailed targets
    heldout_fraction: float = _CRITIC["heldout_fraction"]
    seed: int = _CRITIC["seed"]
    # Held-out score std below this raises CriticCollapsed (schema default: a tenth of the default
    # ranking margin, i.e. scores too close together to express the margin at all).
    collapse_min_std: float = _CRITIC["collapse_min_std"]

    def __post_init__(self):
        self.mlp_dims = tuple(self.mlp_dims)
        if self.conditioning not in ("response", "prompt"):
            raise InputError(f"critic conditioning {self.conditioning!r} not in response/prompt")
        if self.target_transform not in TARGET_TRANSFORMS:
            raise InputError(f"target_transform {self.target_transform!r} not in {TARGET_TRANSFORMS}")
        if not 0.0 < self.heldout_fraction < 1.0:
            raise InputError("heldout_fraction must be in (0, 1)")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mlp_dims"] = list(self.mlp_dims)
        return d


def _pairs_within_groups(
    groups: list[np.ndarray], sources: Sequence[str]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per prompt group, its (human, model) pairs as positions inside the group."""
    out = []
    for rows in groups:
        h, m = prompt_pairs(["g"] * len(rows), [sources[i] for i in rows])
        out.append((h, m))
    return out


def _assemble_batch(groups, group_pairs, batch_groups):
    """(row indices, human positions, model positions) of a batch of whole prompt groups;
    pair positions index into the batch's rows."""
    rows, pair_h, pair_m, offset = [], [], [], 0
    for g in batch_groups:
        h, m = group_pairs[g]
        rows.append(groups[g])
        pair_h.append(h + offset)
        pair_m.append(m + offset)
        offset += len(groups[g])
    return (
        np.concatenate(rows),
        torch.as_tensor(np.concatenate(pair_h)),
        torch.as_tensor(np.concatenate(pair_m)),
    )


def train_head(
    embeddings: np.ndarray,
    bucket_index: np.ndarray,
    targets: np.ndarray,
    prompt_ids: Sequence[str],
    sources: Sequence[str],
    n_buckets: int,
    settings: CriticSettings,
) -> tuple[CriticHead, list[dict]]:
    """Fit a CriticHead on the given rows (already restricted to the training part);
    targets on the training scale. Returns the head (eval mode) and per-epoch mean losses."""
    torch.manual_seed(settings.seed)
    x = torch.as_tensor(embeddings, dtype=torch.float32)
    b = torch.as_tensor(bucket_index, dtype=torch.long)
    y = torch.as_tensor(targets, dtype=torch.float32)
    head = CriticHead(x.shape[1], n_buckets, settings.bucket_dim, settings.mlp_dims, settings.dropout)
    head.set_standardization(x.mean(0), x.std(0, unbiased=False))
    optimizer = torch.optim.AdamW(head.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    groups = prompt_groups(prompt_ids)
    group_pairs = _pairs_within_groups(groups, sources)
    generator = torch.Generator().manual_seed(settings.seed)
    history = []
    head.train()
    for epoch in range(settings.epochs):
        order = torch.randperm(len(groups), generator=generator).numpy()
        sums, steps = np.zeros(3), 0
        for start in range(0, len(order), settings.batch_prompts):
            batch_groups = order[start : start + settings.batch_prompts]
            rows, pair_h, pair_m = _assemble_batch(groups, group_pairs, batch_groups)
            pred = head(x[rows], b[rows])
            total, l1, hinge = critic_loss(
                pred, y[rows], pair_m, pair_h, settings.margin, settings.rank_weight
            )
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            sums += [total.item(), l1.item(), hinge.item()]
            steps += 1
        history.append(
            {"epoch": epoch + 1, **{k: float(v) for k, v in zip(("loss", "l1", "hinge"), sums / steps)}}
        )
    head.eval()
    return head, history


def _pair_accuracy(diff: np.ndarray) -> float | None:
    # Ties count one half, so a constant critic scores 0.5 (chance), not 0 or 1.
    return float(np.mean((diff > 0) + 0.5 * (diff == 0))) if len(diff) else None


def critic_metrics(
    scores: np.ndarray, targets: np.ndarray, prompt_ids: Sequence[str], sources: Sequence[str]
) -> dict:
    """MAE, ranking accuracy (human scored below model, per (human, model) pair of a prompt),
    the same accuracy of the targets themselves, Spearman with D_b, and the score spread."""
    from scipy.stats import spearmanr

    h, m = prompt_pairs(prompt_ids, sources)
    constant = np.ptp(scores) == 0 or np.ptp(targets) == 0
    rho = None if constant or len(scores) < 2 else float(spearmanr(scores, targets).statistic)
    return {
        "n_rows": int(len(scores)),
        "n_prompts": int(len(set(prompt_ids))),
        "n_pairs": int(len(h)),
        "mae": float(np.mean(np.abs(scores - targets))) if len(scores) else None,
        "ranking_accuracy": _pair_accuracy(scores[m] - scores[h]),
        "target_ranking_accuracy": _pair_accuracy(targets[m] - targets[h]),
        "spearman": None if rho is None or math.isnan(rho) else rho,
        "score_mean": float(np.mean(scores)),
        "score_std": float(np.std(scores)),
        "score_min": float(np.min(scores)),
        "score_max": float(np.max(scores)),
        "target_mean": float(np.mean(targets)),
        "target_std": float(np.std(targets)),
    }


def train_critic(
    rows: Sequence[dict],
    out_dir,
    *,
    encoder_path: str,
    settings: CriticSettings | dict | None = None,
    model=None,
    tokenizer=None,
    embeddings: np.ndarray | None = None,
    progress: bool = False,
) -> dict:
    """Encode every row once with the frozen encoder, train the head on the training part,
    report on the held-out prompts, fail with CriticCollapsed when held-out scores are nearly
    constant, else save the bundle to `out_dir`. Returns the bundle's config (with metrics).

    rows: dicts with id (prompt id), bucket_id, text, source ("human"/"model"), target (D_b),
    and prompt (the rendered prompt) when settings.conditioning == "prompt".
    `model`/`tokenizer` default to loading `encoder_path`; `embeddings` skips encoding.
    """
    from ..models.runtime import load_encoder
    from .encoder import encode_responses

    if not isinstance(settings, CriticSettings):
        settings = CriticSettings(**(settings or {}))
    t0 = time.time()
    data = validate_rows(rows, need_prompts=settings.conditioning == "prompt")
    if embeddings is None:
        if model is None or tokenizer is None:
            model, tokenizer = load_encoder(encoder_path)
        embeddings = encode_responses(
            model,
            tokenizer,
            data.texts,
            data.prompts if settings.conditioning == "prompt" else None,
            settings.encoder_batch_size,
            settings.max_length,
            progress,
        )
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if embeddings.shape[0] != len(data.texts):
        raise InputError(f"{embeddings.shape[0]} embeddings for {len(data.texts)} rows")
    buckets = sorted(set(data.bucket_ids))
    vocab = {b: i for i, b in enumerate(buckets)}
    bucket_index = np.array([vocab[b] for b in data.bucket_ids], dtype=np.int64)
    held = heldout_mask(data.prompt_ids, settings.heldout_fraction, settings.seed)
    if held.all() or not held.any():
        raise InputError(
            f"critic: held-out split by prompt id is degenerate "
            f"({int(held.sum())} of {len(held)} rows held out); need more prompts "
            "or another heldout_fraction"
        )
    train, test = np.nonzero(~held)[0], np.nonzero(held)[0]
    y = transform_targets(data.targets, settings.target_transform)
    pid = np.array(data.prompt_ids, dtype=object)
    src = np.array(data.sources, dtype=object)
    head, history = train_head(
        embeddings[train],
        bucket_index[train],
        y[train],
        list(pid[train]),
        list(src[train]),
        len(buckets),
        settings,
    )
    scores = inverse_transform(predict(head, embeddings, bucket_index), settings.target_transform)
    metrics = {
        split: critic_metrics(scores[idx], data.targets[idx], list(pid[idx]), list(src[idx]))
        for split, idx in (("train", train), ("heldout", test))
    }
    if metrics["heldout"]["score_std"] < settings.collapse_min_std:
        m = metrics["heldout"]
        raise CriticCollapsed(
            f"critic collapsed: held-out score std {m['score_std']:.3g} < "
            f"{settings.collapse_min_std:g} (scores in [{m['score_min']:.4g}, "
            f"{m['score_max']:.4g}], target std {m['target_std']:.3g}, {m['n_pairs']} "
            "human/model pairs). Train on model generations as well as human answers, with "
            "targets that vary.",
            metrics,
        )
    config = {
        "encoder_path": str(encoder_path),
        "hidden_size": int(embeddings.shape[1]),
        "n_buckets": len(buckets),
        "training": settings.to_dict(),
        "metrics": metrics,
        "history": history,
        "n_rows": len(data.texts),
        "n_model_rows": int(sum(s == "model" for s in data.sources)),
        "seconds": round(time.time() - t0, 2),
    }
    save_bundle(out_dir, head, config, buckets)
    return config
