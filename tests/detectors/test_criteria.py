"""Fast-DetectGPT and Binoculars against values computed by hand on a tiny bigram LM (3 tokens)."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from polyalign.detectors.criteria import (
    binoculars_score,
    binoculars_terms_from_logprobs,
    fast_detectgpt_criterion,
    fast_detectgpt_probability,
    fast_detectgpt_terms_from_logprobs,
)
from polyalign.detectors.zero_shot import ModelPair, zero_shot_scores
from polyalign.features.lm_inputs import LMExample

# Next-token probabilities given the previous token (rows: previous token 0, 1, 2).
P = [[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5]]  # model A
Q = [[0.6, 0.2, 0.2], [0.2, 0.6, 0.2], [0.1, 0.1, 0.8]]  # model B


class Bigram(torch.nn.Module):
    """logits[t] = log table[ids[t]]; counts its forward passes."""

    def __init__(self, table):
        super().__init__()
        self.table = torch.nn.Parameter(torch.tensor(table, dtype=torch.float64).log(), requires_grad=False)
        self.calls = 0
        self.config = SimpleNamespace(vocab_size=len(table))

    def forward(self, input_ids, attention_mask=None):
        self.calls += 1
        return SimpleNamespace(logits=self.table[input_ids])


def by_hand_fdg(tokens, start, p, q):
    """c = (sum log p(x_t) - sum mu_t) / sqrt(sum var_t), written out term by term."""
    ll = mu = var = 0.0
    for t in range(start, len(tokens)):
        prev, x = tokens[t - 1], tokens[t]
        ll += math.log(p[prev][x])
        m = sum(q[prev][v] * math.log(p[prev][v]) for v in range(3))
        mu += m
        var += sum(q[prev][v] * math.log(p[prev][v]) ** 2 for v in range(3)) - m * m
    return (ll - mu) / math.sqrt(var)


def by_hand_binoculars(tokens, start, observer, performer):
    nll = [-math.log(performer[tokens[t - 1]][tokens[t]]) for t in range(start, len(tokens))]
    xent = [
        -sum(observer[tokens[t - 1]][v] * math.log(performer[tokens[t - 1]][v]) for v in range(3))
        for t in range(start, len(tokens))
    ]
    return (sum(nll) / len(nll)) / (sum(xent) / len(xent))


def test_fast_detectgpt_two_positions_fully_by_hand():
    # text [0, 1, 1] with the response starting at index 1: positions predict 1 | 0 and 1 | 1.
    # scoring p = P, sampling q = Q
    # t=1: log p = ln .25; mu = .6 ln .5 + .4 ln .25; E[(log p)^2] = .6 ln².5 + .4 ln².25
    # t=2: log p = ln .5;  mu = .2 ln .25 + .6 ln .5 + .2 ln .25 = .6 ln .5 + .4 ln .25 (same)
    l2, l4 = math.log(0.5), math.log(0.25)
    mu = 0.6 * l2 + 0.4 * l4
    var = 0.6 * l2**2 + 0.4 * l4**2 - mu**2
    expected = (l4 + l2 - 2 * mu) / math.sqrt(2 * var)
    # with L = ln 2: mu = -1.4 L, var = (0.6 + 1.6 - 1.96) L^2 = 0.24 L^2, numerator -0.2 L
    assert expected == pytest.approx(-0.2 / math.sqrt(0.48))  # = -1/sqrt(12): L cancels
    models = {"a": Bigram(P), "b": Bigram(Q)}
    out = zero_shot_scores(models, {"fast_detectgpt": ModelPair("a", "b")}, [LMExample([0, 1, 1], 1)])
    assert out["fast_detectgpt"][0] == pytest.approx(expected, rel=1e-5)  # float32 vocabulary sums
    assert out["n_tokens"][0] == 2


def test_binoculars_two_positions_fully_by_hand():
    # observer P, performer Q, text [2, 2, 0]: positions predict 2 | 2 and 0 | 2.
    # nll = (-ln .8 - ln .1) / 2; xent_t = -(.25 ln .1 + .25 ln .1 + .5 ln .8) at both positions
    nll = (-math.log(0.8) - math.log(0.1)) / 2
    xent = -(0.5 * math.log(0.1) + 0.5 * math.log(0.8))
    models = {"a": Bigram(P), "b": Bigram(Q)}
    out = zero_shot_scores(models, {"binoculars": ModelPair("a", "b")}, [LMExample([2, 2, 0], 1)])
    assert out["binoculars"][0] == pytest.approx(nll / xent, rel=1e-5)  # float32 vocabulary sums
    assert nll / xent == pytest.approx(1.0)  # both are -(ln .8 + ln .1)/2
    assert binoculars_score([nll, nll], [xent, xent]) == pytest.approx(1.0)


def test_batched_scores_match_one_at_a_time_and_each_model_runs_once_per_batch():
    tokens = [[0, 1, 2, 2, 1], [1, 0], [2, 1, 0, 0], [0, 0, 0, 2, 2, 1, 0]]
    starts = [2, 1, 1, 3]
    examples = [LMExample(t, s) for t, s in zip(tokens, starts)]
    models = {"base": Bigram(P), "sft": Bigram(Q)}
    pairs = {"fast_detectgpt": ModelPair("base", "sft"), "binoculars": ModelPair("base", "sft")}
    out = zero_shot_scores(models, pairs, examples, batch_size=4)
    assert models["base"].calls == 1 and models["sft"].calls == 1  # the two criteria share the passes
    for i, (t, s) in enumerate(zip(tokens, starts)):  # the vocabulary sums run in float32
        assert out["fast_detectgpt"][i] == pytest.approx(by_hand_fdg(t, s, P, Q), rel=1e-5)
        assert out["binoculars"][i] == pytest.approx(by_hand_binoculars(t, s, P, Q), rel=1e-5)
        single = zero_shot_scores(models, pairs, [examples[i]], batch_size=1)
        assert single["fast_detectgpt"][0] == pytest.approx(out["fast_detectgpt"][i], rel=1e-12)


def test_text_without_response_tokens_has_no_score():
    out = zero_shot_scores(
        {"a": Bigram(P), "b": Bigram(Q)},
        {"fast_detectgpt": ModelPair("a", "b"), "binoculars": ModelPair("a", "b")},
        [LMExample([0, 1], 2)],
    )
    assert (
        math.isnan(out["fast_detectgpt"][0]) and math.isnan(out["binoculars"][0]) and out["n_tokens"][0] == 0
    )
    assert math.isnan(fast_detectgpt_criterion([], [], []))


def test_probability_mapping_by_hand():
    def normal(x, m, s):
        return math.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))

    for c in (-1.0, 0.1603, 1.3, 2.4686, 5.0):
        machine, human = normal(c, 2.4686, 2.1582), normal(c, 0.1603, 1.0791)
        assert fast_detectgpt_probability(c) == pytest.approx(machine / (machine + human), rel=1e-12)
    p = fast_detectgpt_probability(np.array([0.0, 1.0, 3.0, 1e6, -1e6]))
    # rising between the two means; both far tails go to the wider (machine) normal
    assert np.all(np.diff(p[:3]) > 0) and p[3] == 1.0 and p[4] == 1.0


def test_pairs_must_share_a_vocabulary():
    from polyalign.detectors.zero_shot import check_shared_vocabulary

    a = SimpleNamespace(get_vocab=lambda: {"x": 0, "y": 1})
    b = SimpleNamespace(get_vocab=lambda: {"x": 0, "z": 1})
    with pytest.raises(ValueError, match="do not share a tokenizer"):
        check_shared_vocabulary({"a": a, "b": b})


def test_float32_terms_agree_with_float64_on_a_real_vocabulary():
    # the scoring pass runs in float32: per-position terms within 1e-5 of float64 on 5120-way
    # distributions as peaked as a trained LM's
    g = torch.Generator().manual_seed(0)
    a, b = (torch.randn(64, 5120, generator=g, dtype=torch.float64) * 4 for _ in range(2))
    targets = torch.randint(0, 5120, (64,), generator=g)
    exact = {}
    for dtype in (torch.float64, torch.float32):
        lp, lq = (torch.log_softmax(x.to(dtype), dim=-1) for x in (a, b))
        exact[dtype] = {
            **fast_detectgpt_terms_from_logprobs(lp, lq, targets),
            **binoculars_terms_from_logprobs(lp, lq, targets),
        }
    for key, ref in exact[torch.float64].items():
        got = exact[torch.float32][key].double()
        assert torch.allclose(got, ref, rtol=1e-5, atol=1e-5), key


def test_float32_variance_is_summed_around_the_mean():
    # log p within 0.01 of -30 everywhere q has mass: E[x^2] - mu^2 cancels 900 - 900 in float32
    # (error ~1e-4, the size of the variance itself); summed around mu it stays exact
    q = torch.tensor([[0.5, 0.5, 0.0]])
    log_p = torch.tensor([[-30.0, -30.01, -1e-3]])
    terms = fast_detectgpt_terms_from_logprobs(log_p, q.log(), torch.tensor([0]))
    assert terms["var"].item() == pytest.approx(0.005**2, rel=1e-3)
