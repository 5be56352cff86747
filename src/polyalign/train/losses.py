"""Losses of Bucket-Aware SFT (docs/method.md §4), DPO and HDPO (docs/method.md §7) as pure tensor functions.

Nothing here touches a model, an optimizer or a data loader: every function maps tensors to
tensors, so it can be checked on numbers computed by hand (tests/train/test_losses.py) and
reused by any training loop. Conventions (HF causal LM):

- `labels` are aligned with `input_ids`; position t of the logits predicts label t+1 (the
  causal shift is done here); label `ignore_index` (−100) marks prompt and padding tokens.
- Sequence log-probs are sums over the response tokens; reference log-probs are constants.
- Losses are computed in float32 whatever the dtype of the logits (bf16 logits are upcast).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "sequence_nll",
    "token_mean_nll",
    "weighted_sft_loss",
    "dpo_margin",
    "dpo_loss",
    "hdpo_loss",
    "critic_shares",
    "normalised_lam",
    "ANCHOR_WEIGHTINGS",
]

# How the SFT anchor of `hdpo_loss` weights the chosen answers: all alike, or by the pair weights.
ANCHOR_WEIGHTINGS = ("uniform", "pair_weights")


def _check_1d(name: str, t: torch.Tensor, n: int | None = None) -> None:
    if t.dim() != 1:
        raise ValueError(f"{name}: expected a 1-D tensor, got shape {tuple(t.shape)}")
    if n is not None and t.shape[0] != n:
        raise ValueError(f"{name}: expected {n} entries, got {t.shape[0]}")


def _finite_or_raise(name: str, t: torch.Tensor) -> None:
    if not bool(torch.isfinite(t).all()):
        raise FloatingPointError(f"non-finite value in {name}: {t.detach().cpu().tolist()}")


# --------------------------------------------------------------------------------------- SFT


def sequence_nll(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = -100
) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed NLL of the label tokens of each sequence, with the causal shift.

    logits [B, T, V], labels [B, T] → (sum_nll [B] float32, n_tokens [B] int64), where
    sum_nll_i = −Σ_{t: labels[i,t+1] ≠ ignore} log softmax(logits[i,t])[labels[i,t+1]].
    """
    if logits.dim() != 3 or labels.dim() != 2 or logits.shape[:2] != labels.shape:
        raise ValueError(
            f"sequence_nll: expected logits [B,T,V] and labels [B,T], got "
            f"{tuple(logits.shape)} and {tuple(labels.shape)}"
        )
    shift_logits = logits[:, :-1, :].float()
    shift_labels = labels[:, 1:]
    b, t1, v = shift_logits.shape
    per_token = F.cross_entropy(
        shift_logits.reshape(b * t1, v),
        shift_labels.reshape(b * t1),
        ignore_index=ignore_index,
        reduction="none",
    ).view(b, t1)  # 0 at ignored positions
    n_tokens = (shift_labels != ignore_index).sum(dim=1)
    return per_token.sum(dim=1), n_tokens


def token_mean_nll(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Per-example mean NLL over the response tokens, [B]. An example with no label token
    raises ValueError (its mean is undefined; returning 0 would silently drop it)."""
    return mean_from_sums(*sequence_nll(logits, labels, ignore_index), ignore_index)


def mean_from_sums(sum_nll: torch.Tensor, n_tokens: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """sum_nll / n_tokens per example, [B]; an example with no label token raises ValueError."""
    empty = (n_tokens == 0).nonzero().flatten()
    if empty.numel():
        raise ValueError(
            f"example(s) {empty.tolist()} of the batch have no response tokens "
            f"(every shifted label is {ignore_index}); truncation ate the response?"
        )
    return sum_nll / n_tokens.to(sum_nll.dtype)


def weighted_sft_loss(
    logits: torch.Tensor, labels: torch.Tensor, weights, ignore_index: int = -100
) -> torch.Tensor:
    """Bucket-Aware SFT loss of a batch: L = (1/|batch|) Σ_i w_i ℓ_i, ℓ_i = token-mean NLL.

    Normalized by the batch size, NEVER by Σ_i w_i of the micro-batch (that would cancel the
    weights at batch size 1, the authors' bug). With w ≡ 1 this is plain (per-example mean) SFT.
    """
    return weighted_example_mean(token_mean_nll(logits, labels, ignore_index), weights)


def weighted_example_mean(ell: torch.Tensor, weights) -> torch.Tensor:
    """(1/B) Σ_i w_i ℓ_i: `weighted_sft_loss` from the per-example token-mean NLLs ℓ [B]."""
    w = torch.as_tensor(weights, dtype=ell.dtype, device=ell.device).detach()
    _check_1d("weights", w, ell.shape[0])
    if not bool(torch.isfinite(w).all()) or bool((w < 0).any()):
        raise ValueError(f"weights must be finite and >= 0, got {w.cpu().tolist()}")
    loss = (w * ell).sum() / ell.shape[0]
    _finite_or_raise("weighted_sft_loss", loss)
    return loss


# --------------------------------------------------------------------------------------- DPO


def dpo_margin(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """z = β[(πc − rc) − (πr − rr)] with gradient, plus the (detached) implicit rewards
    β(πc − rc) and β(πr − rr). Reference log-probs are treated as constants (detached)."""
    if not beta > 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    k = policy_chosen_logps.shape[0] if policy_chosen_logps.dim() == 1 else None
    for name, t in (
        ("policy_chosen_logps", policy_chosen_logps),
        ("policy_rejected_logps", policy_rejected_logps),
        ("ref_chosen_logps", ref_chosen_logps),
        ("ref_rejected_logps", ref_rejected_logps),
    ):
        _check_1d(name, t, k)
    chosen_logratios = policy_chosen_logps - ref_chosen_logps.detach()
    rejected_logratios = policy_rejected_logps - ref_rejected_logps.detach()
    z = beta * (chosen_logratios - rejected_logratios)
    return z, beta * chosen_logratios.detach(), beta * rejected_logratios.detach()


def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Sigmoid DPO (Rafailov et al. 2023): per-pair losses −log σ(z), computed as −logsigmoid(z).

    Returns (losses [K] with gradient, chosen_rewards [K], rejected_rewards [K], margins z [K]);
    rewards and margins are detached (for logging). The batch loss is `losses.mean()`.
    """
    z, chosen_rewards, rejected_rewards = dpo_margin(
        policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta
    )
    losses = -F.logsigmoid(z)
    return losses, chosen_rewards, rejected_rewards, z.detach()


# -------------------------------------------------------------------------------------- HDPO


def hdpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    s_pos,
    s_neg,
    pair_weights,
    chosen_nll_per_token: torch.Tensor | None,
    *,
    beta: float,
    lam: float,
    gamma_sft: float,
    anchor_weighting: str,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """HDPO loss of K pairs (docs/method.md §7):

        z_i = β[(πc − rc) − (πr − rr)],  L_DPO,i = −log σ(z_i),  p_i = σ(z_i)
        R_i = p_i s⁺_i + (1 − p_i) s⁻_i                     (s⁺, s⁻, w are constants)
        L   = (1/K) Σ w_i L_DPO,i + λ (1/K) Σ R_i + γ_sft · (1/K) Σ a_i NLL(y⁺_i)/|y⁺_i|

    with anchor weights a_i = 1 (`anchor_weighting` "uniform") or a_i = w_i ("pair_weights":
    each chosen answer is held in place with the same weight that pushes it in the DPO term, so
    a language that carries half the pair mass also carries half the anchor; still divided by K,
    never by Σ w, like the DPO term).

    `chosen_nll_per_token` [K] is the token-mean NLL of the chosen responses under the policy
    (with gradient; e.g. −logps/n_tokens from the same forward); it may be None iff γ_sft = 0.
    A term whose coefficient is 0 is left out of the sum (so λ = γ_sft = 0, w = 1 is exactly DPO).

    Returns (loss, components). Components are detached: `dpo_term`, `r_term`, `anchor` (the
    three summands, scaled by their coefficients, loss = dpo_term + r_term + anchor), `r_mean`
    (mean R), `anchor_nll` ((1/K) Σ a_i NLL_i/|y⁺_i|, the anchor before γ_sft), per-pair `dpo_losses`, `p`, `z`, `R`,
    `weights`, `chosen_rewards`, `rejected_rewards`, `reward_margins` (= z), and `accuracy`
    (share of pairs with z > 0). A non-finite summand raises FloatingPointError naming it.
    """
    z, chosen_rewards, rejected_rewards = dpo_margin(
        policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta
    )
    k = z.shape[0]
    if k == 0:
        raise ValueError("hdpo_loss: empty batch")

    def const(name, x):
        t = torch.as_tensor(x, dtype=z.dtype, device=z.device).detach()
        _check_1d(name, t, k)
        return t

    sp, sn, w = const("s_pos", s_pos), const("s_neg", s_neg), const("pair_weights", pair_weights)
    if bool((w < 0).any()):
        raise ValueError(f"pair_weights must be >= 0, got {w.cpu().tolist()}")
    if anchor_weighting not in ANCHOR_WEIGHTINGS:
        raise ValueError(f"anchor_weighting must be one of {ANCHOR_WEIGHTINGS}, got {anchor_weighting!r}")

    def weighted_anchor(nll: torch.Tensor) -> torch.Tensor:
        return (w * nll).mean() if anchor_weighting == "pair_weights" else nll.mean()

    dpo_losses = -F.logsigmoid(z)
    dpo_term = (w * dpo_losses).mean()  # (1/K) Σ w_i L_i: normalized by K, never by Σ w
    _finite_or_raise("dpo_term", dpo_term)
    loss = dpo_term

    p = torch.sigmoid(z)
    r = p * sp + (1.0 - p) * sn
    r_mean = r.mean()
    r_term = lam * r_mean
    if lam != 0:
        _finite_or_raise("r_term", r_term)
        loss = loss + r_term

    if gamma_sft != 0:
        if chosen_nll_per_token is None:
            raise ValueError("hdpo_loss: gamma_sft != 0 needs chosen_nll_per_token")
        _check_1d("chosen_nll_per_token", chosen_nll_per_token, k)
        anchor_nll = weighted_anchor(chosen_nll_per_token)
        anchor = gamma_sft * anchor_nll
        _finite_or_raise("anchor", anchor)
        loss = loss + anchor
    else:
        anchor_nll = (
            weighted_anchor(chosen_nll_per_token) if chosen_nll_per_token is not None else z.new_zeros(())
        )
        anchor = z.new_zeros(())
    _finite_or_raise("hdpo_loss", loss)

    zd = z.detach()
    grad_share, loss_share = critic_shares(
        p.detach(), sp, sn, w, lam, dpo_term.detach(), r_term.detach(), anchor.detach()
    )
    components = {
        "dpo_term": dpo_term.detach(),
        "r_term": (r_term if lam != 0 else z.new_zeros(())).detach(),
        "anchor": anchor.detach(),
        "r_mean": r_mean.detach(),
        "anchor_nll": anchor_nll.detach(),
        "dpo_losses": dpo_losses.detach(),
        "p": p.detach(),
        "z": zd,
        "R": r.detach(),
        "weights": w,
        "chosen_rewards": chosen_rewards,
        "rejected_rewards": rejected_rewards,
        "reward_margins": chosen_rewards - rejected_rewards,
        "accuracy": (zd > 0).float().mean(),
        "r_grad_share": grad_share,
        "r_loss_share": loss_share,
    }
    return loss, components


def critic_shares(
    p, s_pos, s_neg, weights, lam: float, dpo_term, r_term, anchor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(gradient share, loss share) of the critic term R in an HDPO batch.

    Both terms reach the parameters only through the pair margins z_i, so their gradients are
    compared there: ∂(w_i L_DPO,i)/∂z_i = −w_i (1 − p_i) and ∂(λ R_i)/∂z_i = λ (s⁺_i − s⁻_i) p_i (1 − p_i)
    (each over K). Gradient share = Σ|λ (s⁺−s⁻) p (1−p)| / (Σ w (1−p) + Σ|λ (s⁺−s⁻) p (1−p)|);
    the anchor acts on the chosen NLL, not on z, and is left out. Loss share = |r_term| /
    (|dpo_term| + |r_term| + |anchor|). Both are 0 when λ = 0 (and when every term is 0).
    """
    q = p * (1.0 - p)
    g_r = (lam * (s_pos - s_neg) * q).abs().sum()
    g_dpo = (weights * (1.0 - p)).sum()
    total = g_dpo + g_r
    grad_share = g_r / total if float(total) > 0 else total.new_zeros(())
    r = r_term.abs()
    denom = dpo_term.abs() + r + anchor.abs()
    loss_share = r / denom if float(denom) > 0 else denom.new_zeros(())
    return grad_share, loss_share


def normalised_lam(lam: float, weights, s_pos, s_neg) -> float:
    """λ of the loss for a relative λ (`lam_normalization: gradient`): the λ at which the critic
    term's gradient on the pair margins is `lam` times the DPO term's at the start of training
    (policy = reference, so z = 0 and p = ½ for every pair): there ∂R/∂z sums to
    Σ|s⁺−s⁻|/4 and ∂L_DPO/∂z to Σw/2, so λ_loss = lam · 2 Σ w / Σ |s⁻ − s⁺|, and the critic's
    gradient share at the start is lam / (1 + lam). λ = 0 stays 0 (no critic term)."""
    if lam == 0:
        return 0.0
    w = torch.as_tensor(weights, dtype=torch.float64)
    gap = (
        (torch.as_tensor(s_neg, dtype=torch.float64) - torch.as_tensor(s_pos, dtype=torch.float64))
        .abs()
        .sum()
    )
    if not float(gap) > 0:
        raise ValueError(
            "lam_normalization gradient: every pair has s+ = s- (no critic, or all gaps 0), so no λ "
            "gives the critic term a gradient; set lam 0 or lam_normalization none"
        )
    return float(lam * 2.0 * w.sum() / gap)
