"""The critic term's share of HDPO's gradient and loss, and the relative λ, on hand-checked numbers."""

import math

import pytest
import torch

from polyalign.train.losses import critic_shares, hdpo_loss, normalised_lam


def test_gradient_share_on_the_margins_by_hand():
    # two pairs at z = 0 (p = 1/2): dDPO/dz = w (1 - p) = 0.5 and 1.0; dR/dz = λ (s+ - s-) p (1 - p)
    # = 2 * (-0.2) * 0.25 = -0.1 and 2 * 0.4 * 0.25 = 0.2: share = 0.3 / (1.5 + 0.3) = 1/6
    p = torch.tensor([0.5, 0.5])
    sp, sn, w = torch.tensor([0.1, 0.5]), torch.tensor([0.3, 0.1]), torch.tensor([1.0, 2.0])
    zero = torch.zeros(())
    g, loss_share = critic_shares(p, sp, sn, w, 2.0, torch.tensor(0.6), torch.tensor(0.2), torch.tensor(0.2))
    assert float(g) == pytest.approx(1 / 6)
    assert float(loss_share) == pytest.approx(0.2 / 1.0)  # |r| / (|dpo| + |r| + |anchor|)
    g0, l0 = critic_shares(p, sp, sn, w, 0.0, torch.tensor(0.6), zero, zero)
    assert float(g0) == 0.0 and float(l0) == 0.0


def test_hdpo_loss_reports_the_shares_it_computes_and_they_match_autograd():
    chosen = torch.tensor([-3.0, -4.0], requires_grad=True)
    rejected = torch.tensor([-3.5, -3.0], requires_grad=True)
    ref_c, ref_r = torch.tensor([-3.2, -4.1]), torch.tensor([-3.4, -3.2])
    sp, sn, w = torch.tensor([0.1, 0.4]), torch.tensor([0.3, 0.2]), torch.tensor([1.0, 1.5])
    kw = {"beta": 0.5, "gamma_sft": 0.0, "anchor_weighting": "uniform"}
    loss, c = hdpo_loss(chosen, rejected, ref_c, ref_r, sp, sn, w, None, lam=0.8, **kw)
    # the gradient of each term on the chosen log-probs is β times its gradient on z
    dpo_only, _ = hdpo_loss(chosen, rejected, ref_c, ref_r, sp, sn, w, None, lam=0.0, **kw)
    (g_all,) = torch.autograd.grad(loss, chosen)
    (g_dpo,) = torch.autograd.grad(dpo_only, chosen)
    g_r = g_all - g_dpo
    expected = float(g_r.abs().sum() / (g_dpo.abs().sum() + g_r.abs().sum()))
    assert float(c["r_grad_share"]) == pytest.approx(expected, rel=1e-5)
    expected_loss = float(c["r_term"].abs() / (c["dpo_term"].abs() + c["r_term"].abs()))
    assert float(c["r_loss_share"]) == pytest.approx(expected_loss)
    assert 0 < float(c["r_grad_share"]) < 1


def test_relative_lam_gives_the_critic_lam_over_one_plus_lam_of_the_gradient_at_the_start():
    w, sp, sn = [1.0, 2.0, 0.5], [0.1, 0.5, 0.2], [0.3, 0.1, 0.2]
    # 2 Σw / Σ|s- - s+| = 2 * 3.5 / 0.6
    assert normalised_lam(0.25, w, sp, sn) == pytest.approx(0.25 * 7.0 / 0.6)
    lam = normalised_lam(0.25, w, sp, sn)
    half = torch.full((3,), 0.5)
    zero = torch.zeros(())
    g, _ = critic_shares(half, torch.tensor(sp), torch.tensor(sn), torch.tensor(w), lam, zero, zero, zero)
    assert float(g) == pytest.approx(0.25 / 1.25)
    assert normalised_lam(0.0, w, sp, sp) == 0.0
    with pytest.raises(ValueError, match="every pair has s\\+ = s-"):
        normalised_lam(0.25, w, sp, sp)
    assert math.isfinite(lam)
