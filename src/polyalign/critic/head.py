"""The critic head and its loss (docs/method.md §5). Losses are pure functions of tensors."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..config import block_defaults

# Keyword defaults are the config schema's critic block (the one place they are written).
_CRITIC = block_defaults("critic")


class CriticHead(nn.Module):
    """[standardized frozen embedding ; bucket embedding (64)] -> MLP(256, GELU, dropout 0.1,
    256, GELU, 1). The input standardization (train-part mean/std of the frozen embeddings) is
    stored as buffers so that it travels with the weights."""

    def __init__(
        self,
        input_dim: int,
        n_buckets: int,
        bucket_dim: int = _CRITIC["bucket_dim"],
        mlp_dims: tuple[int, int] = tuple(_CRITIC["mlp_dims"]),
        dropout: float = _CRITIC["dropout"],
    ):
        super().__init__()
        self.bucket_embedding = nn.Embedding(n_buckets, bucket_dim)
        self.mlp = nn.Sequential(
            nn.Linear(input_dim + bucket_dim, mlp_dims[0]),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(mlp_dims[0], mlp_dims[1]),
            nn.GELU(),
            nn.Linear(mlp_dims[1], 1),
        )
        self.register_buffer("input_mean", torch.zeros(input_dim))
        self.register_buffer("input_std", torch.ones(input_dim))

    def set_standardization(self, mean: torch.Tensor, std: torch.Tensor, floor: float = 1e-6) -> None:
        self.input_mean.copy_(mean)
        self.input_std.copy_(torch.clamp(std, min=floor))

    def forward(self, embeddings: torch.Tensor, bucket_index: torch.Tensor) -> torch.Tensor:
        x = (embeddings - self.input_mean) / self.input_std
        x = torch.cat([x, self.bucket_embedding(bucket_index)], dim=-1)
        return self.mlp(x).squeeze(-1)


def l1_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (pred - target).abs().mean()


def ranking_hinge(
    c_model: torch.Tensor, c_human: torch.Tensor, margin: float = _CRITIC["margin"]
) -> torch.Tensor:
    """mean(relu(m - (c(y_model) - c(y_human)))) over paired rows; 0 when there is no pair."""
    if c_model.numel() == 0:
        return c_model.new_zeros(())
    return torch.relu(margin - (c_model - c_human)).mean()


def critic_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    model_index: torch.Tensor,
    human_index: torch.Tensor,
    margin: float = _CRITIC["margin"],
    rank_weight: float = _CRITIC["rank_weight"],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total, l1, hinge): total = L1(pred, target) + rank_weight * hinge over the pairs
    (pred[model_index[k]], pred[human_index[k]]), each a (human, model) pair of one prompt."""
    l1 = l1_loss(pred, target)
    hinge = ranking_hinge(pred[model_index], pred[human_index], margin)
    return l1 + rank_weight * hinge, l1, hinge


def transform_targets(y: np.ndarray, transform: str) -> np.ndarray:
    return np.log1p(y) if transform == "log1p" else y


def inverse_transform(y: np.ndarray, transform: str) -> np.ndarray:
    return np.expm1(y) if transform == "log1p" else y


@torch.no_grad()
def predict(
    head: CriticHead, embeddings: np.ndarray, bucket_index: np.ndarray, batch_size: int = 4096
) -> np.ndarray:
    """Raw head outputs (training scale), float64 [n]; dropout off."""
    head.eval()
    out = []
    for s in range(0, len(embeddings), batch_size):
        x = torch.as_tensor(embeddings[s : s + batch_size], dtype=torch.float32)
        b = torch.as_tensor(bucket_index[s : s + batch_size], dtype=torch.long)
        out.append(head(x, b).double().numpy())
    return np.concatenate(out) if out else np.zeros(0)
