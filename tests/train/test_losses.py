"""SFT / DPO / HDPO losses on hand-computed numbers (docs/method.md §4, §7), and DPO against TRL 1.16."""

import dataclasses
import math
from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch

from polyalign.train.losses import (
    ANCHOR_WEIGHTINGS,
    dpo_loss,
    hdpo_loss,
    sequence_nll,
    token_mean_nll,
    weighted_sft_loss,
)

LN2, LN3 = math.log(2.0), math.log(3.0)
# hdpo_loss has no keyword defaults (the loss settings come from the resolved config): the calls
# below spell out the settings they do not vary.
UNIFORM = {"anchor_weighting": "uniform"}
HDPO = {"beta": 0.1, "lam": 0.1, "gamma_sft": 0.05, "anchor_weighting": "uniform"}

# ----------------------------------------------------------------------------------------- SFT
# Two sequences of 3 tokens, vocab 3. Position t of the logits predicts labels[t+1].
# A: labels [-100, 0, 2]: pos0 logits [0,0,0] → p(0) = 1/3, nll = ln 3;
#    pos1 logits [ln2,0,0] → softmax [2/4,1/4,1/4], p(2) = 1/4, nll = ln 4
#    sum = ln 12 = 2.484907, n = 2, token mean ℓ_A = ln(12)/2 = 1.242453
# B: labels [-100, -100, 1]: pos1 logits [0,ln3,0] → softmax [1/5,3/5,1/5], nll = ln(5/3) = 0.510826
#    n = 1, ℓ_B = 0.510826
# weights [1, 2]: L = (1·1.242453 + 2·0.510826)/2 = 1.132052
LOGITS = torch.tensor(
    [
        [[0.0, 0.0, 0.0], [LN2, 0.0, 0.0], [5.0, -5.0, 1.0]],
        [[9.0, 9.0, 9.0], [0.0, LN3, 0.0], [1.0, 2.0, 3.0]],
    ]
)
LABELS = torch.tensor([[-100, 0, 2], [-100, -100, 1]])


def test_sequence_nll_hand():
    s, n = sequence_nll(LOGITS, LABELS)
    torch.testing.assert_close(s, torch.tensor([math.log(12.0), math.log(5 / 3)]))
    assert n.tolist() == [2, 1]
    torch.testing.assert_close(
        token_mean_nll(LOGITS, LABELS), torch.tensor([1.242453, 0.510826]), atol=1e-6, rtol=0
    )


def test_weighted_sft_hand():
    loss = weighted_sft_loss(LOGITS, LABELS, torch.tensor([1.0, 2.0]))
    assert loss.item() == pytest.approx(1.132052, abs=1e-6)
    # w ≡ 1 is plain SFT (mean of per-example token means): (1.242453 + 0.510826)/2
    assert weighted_sft_loss(LOGITS, LABELS, [1.0, 1.0]).item() == pytest.approx(0.876640, abs=1e-6)


def test_weighted_sft_batch_of_one_keeps_its_weight():
    # the authors normalized by Σw: at batch size 1 the weight cancelled. Here it must not.
    one_logits, one_labels = LOGITS[:1], LABELS[:1]
    plain = weighted_sft_loss(one_logits, one_labels, [1.0])
    doubled = weighted_sft_loss(one_logits, one_labels, [2.0])
    assert plain.item() == pytest.approx(1.242453, abs=1e-6)
    assert torch.equal(doubled, 2 * plain)
    # and the gradient doubles too
    x = one_logits.clone().requires_grad_(True)
    (g1,) = torch.autograd.grad(weighted_sft_loss(x, one_labels, [1.0]), x)
    (g2,) = torch.autograd.grad(weighted_sft_loss(x, one_labels, [2.0]), x)
    torch.testing.assert_close(g2, 2 * g1)


@pytest.mark.parametrize("bad", [[-100, -100, -100], [0, -100, -100]])  # 2nd: only an unshiftable label
def test_zero_response_tokens_raise(bad):
    labels = torch.tensor([[-100, 0, 2], bad])
    with pytest.raises(ValueError, match=r"example\(s\) \[1\]"):
        weighted_sft_loss(LOGITS, labels, [1.0, 1.0])


def test_weighted_sft_bad_weights():
    with pytest.raises(ValueError):
        weighted_sft_loss(LOGITS, LABELS, [1.0])
    with pytest.raises(ValueError):
        weighted_sft_loss(LOGITS, LABELS, [1.0, -1.0])
    with pytest.raises(ValueError):
        weighted_sft_loss(LOGITS, LABELS, [1.0, float("nan")])


# ----------------------------------------------------------------------------------------- DPO
# pair 1: πc −10, πr −12, rc −11, rr −11 → z = 0.1·((−10+11) − (−12+11)) = 0.1·2 = 0.2
#         −log σ(0.2) = log(1 + e^−0.2) = 0.598139
# pair 2: πc −5, πr −3, rc −4, rr −4 → z = 0.1·((−1) − 1) = −0.2, −log σ(−0.2) = 0.798139
PC, PR = torch.tensor([-10.0, -5.0]), torch.tensor([-12.0, -3.0])
RC, RR = torch.tensor([-11.0, -4.0]), torch.tensor([-11.0, -4.0])
BETA = 0.1


def test_dpo_hand():
    losses, cr, rr, z = dpo_loss(PC, PR, RC, RR, BETA)
    torch.testing.assert_close(z, torch.tensor([0.2, -0.2]))
    torch.testing.assert_close(losses, torch.tensor([0.598139, 0.798139]), atol=1e-6, rtol=0)
    torch.testing.assert_close(cr, torch.tensor([0.1, -0.1]))  # β(πc − rc)
    torch.testing.assert_close(rr, torch.tensor([-0.1, 0.1]))  # β(πr − rr)
    torch.testing.assert_close(cr - rr, z)
    assert not cr.requires_grad and not z.requires_grad


def test_dpo_stable_at_extreme_margins():
    pc = torch.tensor([1e4, -1e4])
    zero = torch.zeros(2)
    losses, *_ = dpo_loss(pc, zero, zero, zero, 0.1)  # z = ±1000
    assert torch.isfinite(losses).all()
    torch.testing.assert_close(losses, torch.tensor([0.0, 1000.0]))


def test_dpo_gradient_at_init():
    # d/dπc −log σ(z) = −β σ(−z) = −β/2 at z = 0
    pc = torch.tensor([-3.0], requires_grad=True)
    losses, *_ = dpo_loss(pc, torch.tensor([-4.0]), torch.tensor([-3.0]), torch.tensor([-4.0]), BETA)
    (g,) = torch.autograd.grad(losses.sum(), pc)
    assert g.item() == pytest.approx(-BETA / 2)


def _trl_sigmoid_dpo(pc, pr, rc, rr, beta):
    """TRL 1.16's own sigmoid DPO loss on given sequence log-probs.

    TRL 1.16 has no standalone `dpo_loss` any more: the loss lives inside the instance method
    `DPOTrainer._compute_loss(model, inputs, return_outputs)`. We call that unbound method on a
    minimal stand-in `self` (the attributes it reads, with `DPOConfig`'s defaults for the loss
    settings) and a stand-in model whose per-token `log_probs` sum to the given policy
    log-probs; the reference log-probs go in as precomputed (`precompute_ref_log_probs`).
    """
    trl_dpo = pytest.importorskip("trl.trainer.dpo_trainer")
    from trl.trainer.dpo_config import DPOConfig

    d = {f.name: f for f in dataclasses.fields(DPOConfig)}

    def default(n):
        return d[n].default_factory() if d[n].default_factory is not dataclasses.MISSING else d[n].default  # noqa: E731

    loss_types = default("loss_type")
    loss_types = [loss_types] if isinstance(loss_types, str) else loss_types
    assert loss_types == ["sigmoid"] and default("f_divergence_type") == "reverse_kl"
    assert default("ld_alpha") is None and default("use_weighting") is False

    k = pc.shape[0]
    ident = lambda x: x  # noqa: E731
    metrics = {"train": defaultdict(list), "eval": defaultdict(list)}
    fake_self = SimpleNamespace(
        model=SimpleNamespace(training=True),
        accelerator=SimpleNamespace(device=torch.device("cpu"), gather=ident, gather_for_metrics=ident),
        aux_loss_enabled=False,
        precompute_ref_logps=True,
        ld_alpha=default("ld_alpha"),
        f_divergence_type=default("f_divergence_type"),
        loss_types=loss_types,
        loss_weights=[1.0],
        beta=beta,
        label_smoothing=default("label_smoothing"),
        use_weighting=default("use_weighting"),
        _metrics=metrics,
        _total_train_tokens=0,
        _tp_size=1,
    )
    # sequences of 3 tokens: 1 prompt + 2 completion tokens; each sequence log-prob is split
    # over the 2 completion positions (the fused head returns 0 where labels are −100)
    logps = torch.cat([pc, pr])  # TRL's batch layout: [chosen; rejected]
    per_token = torch.stack([torch.zeros_like(logps), 0.25 * logps, 0.75 * logps], dim=1)
    completion_mask = torch.tensor([[0, 1, 1]] * (2 * k))
    inputs = {
        "input_ids": torch.ones(2 * k, 3, dtype=torch.long),
        "attention_mask": torch.ones(2 * k, 3, dtype=torch.long),
        "completion_mask": completion_mask,
        "ref_chosen_logps": rc,
        "ref_rejected_logps": rr,
    }

    def fake_model(**kwargs):
        assert torch.equal(kwargs["labels"][:, 1:], kwargs["input_ids"][:, 1:])  # completion labelled
        n = kwargs["input_ids"].shape[1] - 1
        return SimpleNamespace(
            log_probs=per_token[:, 1:],  # [2k, T−1], aligned with the shifted mask
            entropy=torch.zeros(2 * k, n),
            mean_logits=torch.zeros(2 * k, n),
            is_top1=torch.zeros(2 * k, n, dtype=torch.bool),
        )

    loss = trl_dpo.DPOTrainer._compute_loss(fake_self, fake_model, inputs, return_outputs=False)
    return loss, metrics["train"]


@pytest.mark.parametrize("beta", [0.1, 0.5])
def test_dpo_equals_trl_sigmoid(beta):
    g = torch.Generator().manual_seed(0)
    pc, pr = -20 * torch.rand(6, generator=g), -20 * torch.rand(6, generator=g)
    rc, rr = -20 * torch.rand(6, generator=g), -20 * torch.rand(6, generator=g)
    trl_loss, trl_metrics = _trl_sigmoid_dpo(pc, pr, rc, rr, beta)
    losses, cr, rj, z = dpo_loss(pc, pr, rc, rr, beta)
    torch.testing.assert_close(losses.mean(), trl_loss, rtol=1e-6, atol=1e-7)
    assert trl_metrics["rewards/chosen"][0] == pytest.approx(cr.mean().item(), abs=1e-6)
    assert trl_metrics["rewards/rejected"][0] == pytest.approx(rj.mean().item(), abs=1e-6)
    assert trl_metrics["rewards/margins"][0] == pytest.approx(z.mean().item(), abs=1e-6)
    assert trl_metrics["rewards/accuracies"][0] == pytest.approx((z > 0).float().mean().item())
    # and HDPO with λ = γ_sft = 0, w = 1 is the same number
    h, _ = hdpo_loss(
        pc, pr, rc, rr, torch.zeros(6), torch.ones(6), torch.ones(6), None,
        beta=beta, lam=0.0, gamma_sft=0.0, anchor_weighting="uniform",
    )  # fmt: skip
    torch.testing.assert_close(h, trl_loss, rtol=1e-6, atol=1e-7)


def test_dpo_hand_equals_trl():
    trl_loss, _ = _trl_sigmoid_dpo(PC, PR, RC, RR, BETA)
    assert trl_loss.item() == pytest.approx((0.598139 + 0.798139) / 2, abs=1e-6)


# ---------------------------------------------------------------------------------------- HDPO


def test_hdpo_reduces_to_dpo_exactly():
    pc = PC.clone().requires_grad_(True)
    loss, comp = hdpo_loss(
        pc,
        PR,
        RC,
        RR,
        [0.3, 0.1],
        [0.9, 0.2],
        torch.ones(2),
        None,
        **UNIFORM,
        beta=BETA,
        lam=0.0,
        gamma_sft=0.0,
    )
    losses, *_ = dpo_loss(pc, PR, RC, RR, BETA)
    assert torch.equal(loss, losses.mean())
    (g_h,) = torch.autograd.grad(loss, pc)
    (g_d,) = torch.autograd.grad(dpo_loss(pc, PR, RC, RR, BETA)[0].mean(), pc)
    assert torch.equal(g_h, g_d)
    assert comp["r_term"].item() == 0.0 and comp["anchor"].item() == 0.0


def test_hdpo_hand_two_pairs():
    # z = [0.2, −0.2] (as above), L_DPO = [0.598139, 0.798139], w = [2, 1]
    # p = σ(z) = [0.549834, 0.450166]
    # R_1 = 0.549834·0.1 + 0.450166·0.9 = 0.460133; R_2 = 0.450166·0.3 + 0.549834·0.5 = 0.409967
    # dpo_term = (2·0.598139 + 0.798139)/2 = 0.997208
    # r_term   = 0.1·(0.460133 + 0.409967)/2 = 0.043505
    # anchor   = 0.05·(2.0 + 3.0)/2 = 0.125
    # L = 0.997208 + 0.043505 + 0.125 = 1.165713
    nll = torch.tensor([2.0, 3.0], requires_grad=True)
    loss, c = hdpo_loss(
        PC,
        PR,
        RC,
        RR,
        torch.tensor([0.1, 0.3]),
        torch.tensor([0.9, 0.5]),
        torch.tensor([2.0, 1.0]),
        nll,
        beta=0.1,
        lam=0.1,
        gamma_sft=0.05,
        anchor_weighting="uniform",
    )
    assert loss.item() == pytest.approx(1.165713, abs=1e-6)
    assert c["dpo_term"].item() == pytest.approx(0.997208, abs=1e-6)
    assert c["r_term"].item() == pytest.approx(0.043505, abs=1e-6)
    assert c["anchor"].item() == pytest.approx(0.125, abs=1e-7)
    assert c["r_mean"].item() == pytest.approx(0.435050, abs=1e-6)
    assert c["anchor_nll"].item() == pytest.approx(2.5)
    torch.testing.assert_close(c["p"], torch.tensor([0.549834, 0.450166]), atol=1e-6, rtol=0)
    torch.testing.assert_close(c["R"], torch.tensor([0.460133, 0.409967]), atol=1e-6, rtol=0)
    torch.testing.assert_close(c["z"], torch.tensor([0.2, -0.2]))
    torch.testing.assert_close(c["reward_margins"], torch.tensor([0.2, -0.2]))
    assert c["accuracy"].item() == 0.5
    assert loss.item() == pytest.approx((c["dpo_term"] + c["r_term"] + c["anchor"]).item(), abs=1e-7)
    # anchor gradient: γ_sft / K = 0.025 per chosen NLL
    (g,) = torch.autograd.grad(loss, nll)
    torch.testing.assert_close(g, torch.tensor([0.025, 0.025]))


def test_hdpo_r_term_has_gradient_at_init():
    # policy == reference → z = 0, σ'(0) = 1/4; dR/dπc = β·σ'(0)·(s⁺ − s⁻) = 0.1/4·(0.2 − 1.0) = −0.02
    # (w = 0 isolates the R term, λ = 1, K = 1); dR/dπr = +0.02
    pc = torch.tensor([-7.0], requires_grad=True)
    pr = torch.tensor([-9.0], requires_grad=True)
    loss, c = hdpo_loss(
        pc,
        pr,
        pc.detach().clone(),
        pr.detach().clone(),
        [0.2],
        [1.0],
        [0.0],
        None,
        beta=0.1,
        lam=1.0,
        gamma_sft=0.0,
        anchor_weighting="uniform",
    )
    assert c["z"].item() == 0.0 and c["p"].item() == 0.5
    gc, gr = torch.autograd.grad(loss, [pc, pr])
    assert gc.item() == pytest.approx(0.1 / 4 * (0.2 - 1.0))
    assert gc.item() == pytest.approx(-0.02) and gr.item() == pytest.approx(0.02)
    # with s⁺ == s⁻ the R term is flat
    loss, _ = hdpo_loss(
        pc,
        pr,
        pc.detach(),
        pr.detach(),
        [0.5],
        [0.5],
        [0.0],
        None,
        **UNIFORM,
        beta=0.1,
        lam=1.0,
        gamma_sft=0.0,
    )
    assert torch.autograd.grad(loss, pc)[0].item() == 0.0


def test_hdpo_weights_normalized_by_k_not_sum_w():
    # batch of 1, w = 2: the DPO term is 2·L, not L (Σw normalization would cancel the weight)
    args = (PC[:1], PR[:1], RC[:1], RR[:1], [0.0], [0.0])
    l1, _ = hdpo_loss(*args, [1.0], None, **UNIFORM, beta=BETA, lam=0.0, gamma_sft=0.0)
    l2, _ = hdpo_loss(*args, [2.0], None, **UNIFORM, beta=BETA, lam=0.0, gamma_sft=0.0)
    assert l1.item() == pytest.approx(0.598139, abs=1e-6)
    assert torch.equal(l2, 2 * l1)


def test_hdpo_non_finite_names_component():
    nan = float("nan")
    with pytest.raises(FloatingPointError, match="r_term"):
        hdpo_loss(PC, PR, RC, RR, [nan, 0.0], [0.0, 0.0], [1.0, 1.0], None, **{**HDPO, "gamma_sft": 0.0})
    with pytest.raises(FloatingPointError, match="anchor"):
        hdpo_loss(
            PC, PR, RC, RR, [0.0, 0.0], [0.0, 0.0], [1.0, 1.0], torch.tensor([1.0, float("inf")]), **HDPO
        )
    with pytest.raises(FloatingPointError, match="dpo_term"):
        hdpo_loss(
            torch.tensor([nan, 0.0]),
            PR,
            RC,
            RR,
            [0.0, 0.0],
            [0.0, 0.0],
            [1.0, 1.0],
            None,
            **{**HDPO, "gamma_sft": 0.0},
        )


# Three pairs at policy == reference (z = 0, L_DPO = ln 2 each), λ = 0, γ_sft = 0.05,
# w = [0.5, 1.0, 1.5], chosen NLL/token = [2.0, 1.0, 4.0]:
#   dpo_term           = (0.5 + 1.0 + 1.5)·ln 2 / 3                 = ln 2 = 0.693147
#   uniform anchor     = 0.05·(2 + 1 + 4)/3         = 0.05·7/3      = 0.116667
#   pair-weight anchor = 0.05·(0.5·2 + 1·1 + 1.5·4)/3 = 0.05·8/3    = 0.133333
#   d anchor / d nll_i = 0.05·a_i/3: uniform [1/60]·3; weighted [1/120, 1/60, 1/40]
W3, NLL3 = [0.5, 1.0, 1.5], [2.0, 1.0, 4.0]
LP3 = torch.tensor([-5.0, -6.0, -7.0])


def _hdpo3(weighting, nll, gamma_sft=0.05, w=W3):
    return hdpo_loss(
        LP3, LP3 - 1, LP3, LP3 - 1, [0.0] * 3, [0.0] * 3, w, nll,
        beta=0.1, lam=0.0, gamma_sft=gamma_sft, anchor_weighting=weighting,
    )  # fmt: skip


def test_hdpo_pair_weighted_anchor_hand_three_pairs():
    nll = torch.tensor(NLL3, requires_grad=True)
    loss, c = _hdpo3("pair_weights", nll)
    assert c["dpo_term"].item() == pytest.approx(LN2, abs=1e-6)
    assert c["anchor_nll"].item() == pytest.approx(8 / 3, abs=1e-6)
    assert c["anchor"].item() == pytest.approx(0.133333, abs=1e-6)
    assert loss.item() == pytest.approx(0.693147 + 0.133333, abs=1e-6)
    (g,) = torch.autograd.grad(loss, nll)
    torch.testing.assert_close(g, torch.tensor([1 / 120, 1 / 60, 1 / 40]))


def test_hdpo_uniform_anchor_unchanged_three_pairs():
    nll = torch.tensor(NLL3, requires_grad=True)
    loss, c = _hdpo3("uniform", nll)
    assert c["anchor_nll"].item() == pytest.approx(7 / 3, abs=1e-6)
    assert c["anchor"].item() == pytest.approx(0.116667, abs=1e-6)
    assert loss.item() == pytest.approx(0.693147 + 0.116667, abs=1e-6)
    (g,) = torch.autograd.grad(loss, nll)
    torch.testing.assert_close(g, torch.full((3,), 1 / 60))
    # with unit weights the two weightings are the same number
    u, _ = _hdpo3("uniform", torch.tensor(NLL3), w=[1.0] * 3)
    p, _ = _hdpo3("pair_weights", torch.tensor(NLL3), w=[1.0] * 3)
    assert torch.equal(u, p)


def test_hdpo_pair_weighted_anchor_keeps_dpo_special_case():
    # γ_sft = 0 (DPO): the weighting has nothing to weight; the loss is the DPO loss bit for bit
    pc = PC.clone().requires_grad_(True)
    loss, c = hdpo_loss(
        pc, PR, RC, RR, [0.3, 0.1], [0.9, 0.2], torch.ones(2), torch.tensor([2.0, 3.0]),
        beta=BETA, lam=0.0, gamma_sft=0.0, anchor_weighting="pair_weights",
    )  # fmt: skip
    losses, *_ = dpo_loss(pc, PR, RC, RR, BETA)
    assert torch.equal(loss, losses.mean())
    assert c["anchor"].item() == 0.0
    assert torch.equal(torch.autograd.grad(loss, pc)[0], torch.autograd.grad(losses.mean(), pc)[0])


def test_hdpo_unknown_anchor_weighting_fails():
    assert ANCHOR_WEIGHTINGS == ("uniform", "pair_weights")
    with pytest.raises(ValueError, match="anchor_weighting"):
        _hdpo3("per_language", torch.tensor(NLL3))


def test_hdpo_input_errors():
    with pytest.raises(ValueError):
        hdpo_loss(
            PC, PR, RC, RR, [0.0], [0.0, 0.0], [1.0, 1.0], None, **{**HDPO, "gamma_sft": 0.0}
        )  # s_pos shape
    with pytest.raises(ValueError):
        hdpo_loss(PC, PR, RC, RR, [0.0, 0.0], [0.0, 0.0], [1.0, 1.0], None, **HDPO)  # anchor needs NLL
    with pytest.raises(ValueError):
        hdpo_loss(PC, PR, RC, RR, [0.0, 0.0], [0.0, 0.0], [1.0, -1.0], None, **{**HDPO, "gamma_sft": 0.0})
    with pytest.raises(ValueError):
        dpo_loss(PC, PR, RC, RR, beta=0.0)
