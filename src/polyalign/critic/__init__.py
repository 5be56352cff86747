"""The support critic c(y, b) ≈ D_b(φ(y)) (docs/method.md §5). See docs/features.md."""

from .bundle import Critic, UnknownBucketError, load_critic, save_bundle
from .data import heldout_mask, prompt_pairs, validate_rows
from .encoder import encode_responses
from .head import CriticHead, critic_loss, l1_loss, ranking_hinge
from .train import CriticCollapsed, CriticSettings, critic_metrics, predict, train_critic, train_head

__all__ = [
    "Critic",
    "CriticCollapsed",
    "CriticHead",
    "CriticSettings",
    "UnknownBucketError",
    "critic_loss",
    "critic_metrics",
    "encode_responses",
    "heldout_mask",
    "l1_loss",
    "load_critic",
    "predict",
    "prompt_pairs",
    "ranking_hinge",
    "save_bundle",
    "train_critic",
    "train_head",
    "validate_rows",
]
