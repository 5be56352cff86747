"""Per-position terms and per-text criteria of the two zero-shot detectors (pure tensor maths).

Inputs are next-token logits at the scored positions of one or more texts, packed as [N, V]
(row n predicts token `targets[n]`), from two models over the same vocabulary.

Fast-DetectGPT, analytic form (Bao et al., 2024). Scoring model p, sampling (reference) model q:
    mu_t  = sum_v q_t(v) log p_t(v)
    var_t = sum_v q_t(v) (log p_t(v) - mu_t)^2
    c     = (sum_t log p_t(x_t) - sum_t mu_t) / sqrt(sum_t var_t)     (higher = more AI-like)
and the authors' mapping of c to a probability of machine authorship, a ratio of two normal
densities fitted on their data.

Binoculars (Hans et al., 2024). Observer o, performer f:
    nll_t  = -log f_t(x_t)
    xent_t = -sum_v o_t(v) log f_t(v)
    B      = mean_t nll_t / mean_t xent_t                               (lower = more AI-like)
"""

from __future__ import annotations

import math

import numpy as np
import torch

# Fast-DetectGPT's published probability mapping: N(c; mu, sigma) of human and machine text.
FDG_HUMAN_NORMAL = (0.1603, 1.0791)
FDG_MACHINE_NORMAL = (2.4686, 2.1582)


def _check(a_logits: torch.Tensor, b_logits: torch.Tensor, targets: torch.Tensor) -> None:
    if a_logits.shape != b_logits.shape or a_logits.dim() != 2:
        raise ValueError(
            f"logits must both be [N, V]; got {tuple(a_logits.shape)} and {tuple(b_logits.shape)}"
        )
    if targets.shape != (a_logits.shape[0],):
        raise ValueError(f"targets must be [N={a_logits.shape[0]}]; got {tuple(targets.shape)}")


def fast_detectgpt_terms(
    scoring_logits: torch.Tensor, sampling_logits: torch.Tensor, targets: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Per position: log p(x_t), mu_t and var_t (float64 [N] each)."""
    _check(scoring_logits, sampling_logits, targets)
    return fast_detectgpt_terms_from_logprobs(
        torch.log_softmax(scoring_logits.double(), dim=-1),
        torch.log_softmax(sampling_logits.double(), dim=-1),
        targets,
    )


def fast_detectgpt_terms_from_logprobs(
    log_p: torch.Tensor, log_q: torch.Tensor, targets: torch.Tensor
) -> dict[str, torch.Tensor]:
    """`fast_detectgpt_terms` from the two models' log-probabilities (shared across criteria), in
    their dtype. The variance is summed around mu (two passes), not as E[x^2] - mu^2, so float32
    loses nothing to cancellation."""
    q = log_q.exp()
    mu = (q * log_p).sum(-1)
    centred = log_p - mu[:, None]
    var = (q * centred * centred).sum(-1)
    return {"log_p": log_p.gather(1, targets[:, None].long())[:, 0], "mu": mu, "var": var}


def binoculars_terms(
    observer_logits: torch.Tensor, performer_logits: torch.Tensor, targets: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Per position: the performer's NLL of x_t and the observer-performer cross-entropy (float64 [N])."""
    _check(observer_logits, performer_logits, targets)
    return binoculars_terms_from_logprobs(
        torch.log_softmax(observer_logits.double(), dim=-1),
        torch.log_softmax(performer_logits.double(), dim=-1),
        targets,
    )


def binoculars_terms_from_logprobs(
    log_o: torch.Tensor, log_f: torch.Tensor, targets: torch.Tensor
) -> dict[str, torch.Tensor]:
    return {"nll": -log_f.gather(1, targets[:, None].long())[:, 0], "xent": -(log_o.exp() * log_f).sum(-1)}


def fast_detectgpt_criterion(log_p, mu, var) -> float:
    """c of one text from its per-position terms; NaN for a text without positions or variance."""
    log_p, mu, var = (np.asarray(x, dtype=float) for x in (log_p, mu, var))
    total_var = float(var.sum())
    if log_p.size == 0 or total_var <= 0.0:
        return float("nan")
    return float((log_p.sum() - mu.sum()) / math.sqrt(total_var))


def binoculars_score(nll, xent) -> float:
    """B of one text from its per-position terms; NaN for a text without positions."""
    nll, xent = np.asarray(nll, dtype=float), np.asarray(xent, dtype=float)
    if nll.size == 0 or float(xent.mean()) <= 0.0:
        return float("nan")
    return float(nll.mean() / xent.mean())


def _normal_pdf(x, mu: float, sigma: float):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * math.sqrt(2.0 * math.pi))


def fast_detectgpt_probability(criterion):
    """P(machine) = N(c; machine) / (N(c; human) + N(c; machine)) with the published normals."""
    c = np.asarray(criterion, dtype=float)
    machine = _normal_pdf(c, *FDG_MACHINE_NORMAL)
    human = _normal_pdf(c, *FDG_HUMAN_NORMAL)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = machine / (human + machine)
    # far in either tail both densities underflow; the wider machine normal dominates there
    p = np.where((human + machine) == 0.0, 1.0, p)
    p = np.where(np.isnan(c), np.nan, p)
    return float(p) if p.ndim == 0 else p
