"""response_logps against a per-example loop on a tiny random Llama; concat_pair_batch round-trip."""

import pytest
import torch

from polyalign.train.logprobs import (
    concat_pair_batch,
    position_ids_from_mask,
    response_logps,
    split_pair,
)

PAD = 0


@pytest.fixture(scope="module")
def model(tiny_lm):
    return tiny_lm(
        50,
        hidden_size=16,
        intermediate_size=32,
        num_attention_heads=2,
        max_position_embeddings=64,
        pad_token_id=PAD,
    )


# (prompt tokens, response tokens) of three examples of different lengths
EXAMPLES = [
    ([5, 6, 7], [8, 9]),
    ([11, 12], [13, 14, 15, 16]),
    ([21, 22, 23, 24, 25], [26]),
]


def manual_logp(model, prompt, response):
    """Σ_t log p(response_t | prompt, response_<t) with the unpadded sequence, one at a time."""
    ids = torch.tensor([prompt + response])
    with torch.no_grad():
        logp = model(input_ids=ids).logits[0].float().log_softmax(-1)
    total = 0.0
    for j, tok in enumerate(response):
        total += logp[len(prompt) + j - 1, tok].item()  # position t predicts token t+1
    return total


def make_batch(examples, side):
    length = max(len(p) + len(r) for p, r in examples)
    ids, mask, labels = [], [], []
    for p, r in examples:
        seq, lab = p + r, [-100] * len(p) + r
        pad = length - len(seq)
        if side == "right":
            ids.append(seq + [PAD] * pad)
            mask.append([1] * len(seq) + [0] * pad)  # noqa: E702
            labels.append(lab + [-100] * pad)
        else:
            ids.append([PAD] * pad + seq)
            mask.append([0] * pad + [1] * len(seq))  # noqa: E702
            labels.append([-100] * pad + lab)
    return {
        "input_ids": torch.tensor(ids),
        "attention_mask": torch.tensor(mask),
        "labels": torch.tensor(labels),
    }


@pytest.mark.parametrize("side", ["right", "left"])
def test_response_logps_matches_manual_loop(model, side):
    expected = torch.tensor([manual_logp(model, p, r) for p, r in EXAMPLES])
    b = make_batch(EXAMPLES, side)
    with torch.no_grad():
        logps, n = response_logps(
            model, b["input_ids"], b["attention_mask"], b["labels"], return_n_tokens=True
        )
    torch.testing.assert_close(logps, expected, atol=1e-5, rtol=1e-5)
    assert n.tolist() == [2, 4, 1]
    assert logps.dtype == torch.float32


def test_position_ids_from_mask():
    m = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 0, 0]])
    assert position_ids_from_mask(m).tolist() == [[0, 0, 0, 1, 2], [0, 1, 2, 2, 2]]


def test_response_logps_has_gradient(model):
    b = make_batch(EXAMPLES, "right")
    logps = response_logps(model, b["input_ids"], b["attention_mask"], b["labels"])
    logps.sum().backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    model.zero_grad(set_to_none=True)


def test_concat_pair_batch_round_trip():
    chosen = make_batch(EXAMPLES[:2], "right")  # T_c = 6
    rejected = make_batch([([1, 2], [3]), ([4], [5, 6, 7, 8, 9, 10])], "right")  # T_r = 7
    batch, k = concat_pair_batch(chosen, rejected, pad_id=PAD)
    assert k == 2 and batch["input_ids"].shape == (4, 7)
    c, r = ({key: split_pair(v, k)[i] for key, v in batch.items()} for i in (0, 1))
    for key in chosen:
        assert torch.equal(c[key][:, :6], chosen[key])
        assert torch.equal(r[key], rejected[key])
    assert c["input_ids"][:, 6].tolist() == [PAD, PAD]
    assert c["attention_mask"][:, 6].tolist() == [0, 0]
    assert c["labels"][:, 6].tolist() == [-100, -100]


def test_concat_pair_batch_left():
    chosen = make_batch(EXAMPLES[:2], "left")  # T_c = 6
    rejected = make_batch([([1], [2]), ([3], [4])], "left")  # T_r = 2
    batch, k = concat_pair_batch(chosen, rejected, pad_id=PAD, padding_side="left")
    assert batch["input_ids"].shape == (4, 6)
    for key in chosen:
        assert torch.equal(batch[key][:2], chosen[key])
        assert torch.equal(batch[key][2:, 4:], rejected[key])
    assert batch["attention_mask"][2:, :4].sum() == 0
    assert (batch["labels"][2:, :4] == -100).all()


@pytest.mark.parametrize("side", ["right", "left"])
def test_one_concatenated_forward_equals_separate(model, side):
    chosen = make_batch(EXAMPLES[:2], side)
    rejected = make_batch([([1, 2], [3]), ([4], [5, 6, 7, 8, 9, 10])], side)
    batch, k = concat_pair_batch(chosen, rejected, pad_id=PAD, padding_side=side)
    with torch.no_grad():
        both = response_logps(model, **batch)
        sep_c = response_logps(model, **chosen)
        sep_r = response_logps(model, **rejected)
    c, r = split_pair(both, k)
    torch.testing.assert_close(c, sep_c, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(r, sep_r, atol=1e-5, rtol=1e-5)


def test_concat_pair_batch_errors():
    a = make_batch(EXAMPLES[:2], "right")
    with pytest.raises(ValueError):
        concat_pair_batch(a, make_batch(EXAMPLES, "right"), pad_id=PAD)  # 2 vs 3 rows
    with pytest.raises(ValueError):
        concat_pair_batch({**a, "extra": a["labels"]}, a, pad_id=PAD)
    with pytest.raises(ValueError):
        concat_pair_batch(a, a, pad_id=PAD, padding_side="middle")
    with pytest.raises(ValueError):
        split_pair(torch.zeros(3), 2)


@pytest.mark.parametrize("side", ["right", "left"])
def test_label_positions_path_equals_full_logits(model, side):
    """The vocabulary projection on label positions only gives the full-logits values and
    gradients (the fast path is an optimisation, never a different number)."""
    from polyalign.train import logprobs
    from polyalign.train.losses import sequence_nll

    b = make_batch(EXAMPLES, side)
    kwargs = {
        "input_ids": b["input_ids"],
        "attention_mask": b["attention_mask"],
        "use_cache": False,
        "position_ids": position_ids_from_mask(b["attention_mask"]),
    }
    model.zero_grad()
    grid, counted = logprobs._label_nll_grid(model, kwargs, b["labels"], -100)
    fast, n_fast = grid.sum(dim=1), counted.sum(dim=1)
    fast.sum().backward()
    g_fast = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    full, n_full = sequence_nll(model(**kwargs).logits, b["labels"])
    full.sum().backward()
    g_full = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    assert torch.equal(n_fast, n_full)
    torch.testing.assert_close(fast, full, rtol=1e-6, atol=1e-5)
    for a, c in zip(g_fast, g_full):
        torch.testing.assert_close(a, c, rtol=1e-5, atol=1e-6)
