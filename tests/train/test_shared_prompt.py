"""Shared-prompt pair rows (train.logprobs): the layout and mask by hand, and the same chosen and
rejected log-probs and gradients as one row per side on tiny Llama, Qwen2 and Gemma-2 models
(sdpa and eager attention); layouts the mask cannot express are refused."""

import pytest
import torch

from polyalign.train.logprobs import (
    concat_pair_batch,
    pair_logps,
    shared_prompt_batch,
    shared_prompt_mask,
)

from ..paper_models import build_tiny_checkpoint

PAD = 0


def test_layout_and_mask_by_hand():
    # prompt [5, 6, 7], chosen [8, 9], rejected [10]; a second, shorter pair pads the batch
    chosen = [([5, 6, 7, 8, 9], [-100, -100, -100, 8, 9]), ([3, 4], [-100, 4])]
    rejected = [([5, 6, 7, 10], [-100, -100, -100, 10]), ([3, 1], [-100, 1])]
    b = shared_prompt_batch(chosen, rejected, PAD)
    assert b["input_ids"].tolist() == [[5, 6, 7, 8, 9, 7, 10], [3, 4, 3, 1, 0, 0, 0]]
    assert b["labels"].tolist() == [
        [-100, -100, -100, 8, 9, -100, 10],
        [-100, 4, -100, 1, -100, -100, -100],
    ]
    assert b["position_ids"].tolist() == [[0, 1, 2, 3, 4, 2, 3], [0, 1, 0, 1, 0, 0, 0]]
    assert b["segments"].tolist() == [[1, 1, 2, 3, 3, 4, 4], [2, 3, 4, 4, 0, 0, 0]]
    mask = shared_prompt_mask(b["segments"], "sdpa")[:, 0]
    seen = [[mask[r, q].nonzero().flatten().tolist() for q in range(7)] for r in range(2)]
    # the chosen tokens see the whole prompt; the bridge (a copy of 7 at position 2) and the
    # rejected token see the prompt without its last token, and themselves
    assert seen[0] == [[0], [0, 1], [0, 1, 2], [0, 1, 2, 3], [0, 1, 2, 3, 4], [0, 1, 5], [0, 1, 5, 6]]
    assert seen[1] == [[0], [0, 1], [2], [2, 3], [4], [5], [6]]  # padding: itself only
    additive = shared_prompt_mask(b["segments"], "eager")
    assert additive.dtype == torch.float32
    assert torch.equal(additive == 0, mask[:, None])


def test_pairs_must_share_their_prompt():
    with pytest.raises(ValueError, match="pair 0.*do not share a prompt"):
        shared_prompt_batch([([5, 6, 8], [-100, -100, 8])], [([5, 7, 9], [-100, -100, 9])], PAD)


def test_implementations_without_custom_masks_are_refused():
    with pytest.raises(ValueError, match="shared_prompt: false"):
        shared_prompt_mask(torch.ones(1, 4, dtype=torch.long), "flash_attention_2")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("shared_prompt")
    return {
        f: build_tiny_checkpoint(f, root / f, seed=i) for i, f in enumerate(("llama3", "qwen2", "gemma2"))
    }


def _pairs(vocab: int, seed: int = 0):
    """Four pairs: prompts of 3-9 tokens, responses of 1-6, labels on the responses."""
    g = torch.Generator().manual_seed(seed)
    chosen, rejected = [], []
    for _ in range(4):
        prompt = torch.randint(
            3, vocab, (int(torch.randint(3, 10, (1,), generator=g)),), generator=g
        ).tolist()
        sides = []
        for _ in range(2):
            resp = torch.randint(
                3, vocab, (int(torch.randint(1, 7, (1,), generator=g)),), generator=g
            ).tolist()
            sides.append((prompt + resp, [-100] * len(prompt) + resp))
        chosen.append(sides[0])
        rejected.append(sides[1])
    return chosen, rejected


def _two_rows(chosen, rejected):
    halves = []
    for side in (chosen, rejected):
        width = max(len(ids) for ids, _ in side)
        halves.append(
            {
                "input_ids": torch.tensor([ids + [PAD] * (width - len(ids)) for ids, _ in side]),
                "attention_mask": torch.tensor(
                    [[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in side]
                ),
                "labels": torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in side]),
            }
        )
    return concat_pair_batch(halves[0], halves[1], PAD)[0]


@pytest.mark.parametrize(
    "family, attn", [("llama3", "sdpa"), ("llama3", "eager"), ("qwen2", "sdpa"), ("gemma2", "eager")]
)
def test_same_logps_and_gradients_as_one_row_per_side(checkpoints, family, attn):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(checkpoints[family], attn_implementation=attn)
    model.train()  # dropout is 0 in these configs: train mode is deterministic
    chosen, rejected = _pairs(model.config.vocab_size)
    results = []
    for batch in (_two_rows(chosen, rejected), shared_prompt_batch(chosen, rejected, PAD)):
        model.zero_grad()
        c, r, n_c, n_r = pair_logps(model, batch)
        (c - 2 * r).sum().backward()
        grads = {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}
        results.append((c.detach(), r.detach(), n_c, n_r, grads))
    (c0, r0, nc0, nr0, g0), (c1, r1, nc1, nr1, g1) = results
    assert nc0.tolist() == nc1.tolist() == [len(lab) - lab.count(-100) for _, lab in chosen]
    assert nr0.tolist() == nr1.tolist()
    assert torch.allclose(c1, c0, rtol=1e-5, atol=1e-5) and torch.allclose(r1, r0, rtol=1e-5, atol=1e-5)
    assert g0.keys() == g1.keys() and len(g0) > 3
    for k in g0:
        assert torch.allclose(g1[k], g0[k], rtol=1e-4, atol=1e-6), k


def test_a_binding_sliding_window_is_refused(checkpoints):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(checkpoints["gemma2"], attn_implementation="eager")
    prompt = list(range(3, 70))  # positions past the tiny Gemma-2's window of 64
    batch = shared_prompt_batch([(prompt + [5], [-100] * 67 + [5])], [(prompt + [6], [-100] * 67 + [6])], PAD)
    with pytest.raises(ValueError, match="sliding window"):
        pair_logps(model, batch)


def test_row_length_is_the_width_of_the_pairs_own_row():
    from polyalign.preference.examples import PairExample, collate_pairs
    from polyalign.train.data import Example

    def ex(ids, labels):
        return Example(id="p", input_ids=ids, labels=labels)

    # prompt [5, 6, 7], chosen [8, 9], rejected [10, 11, 12]: 3 + 2 + 1 (bridge) + 3 = 9 tokens
    # shared; the longer side (6) in the two-row layout
    pair = PairExample(
        id="p",
        chosen=ex([5, 6, 7, 8, 9], [-100, -100, -100, 8, 9]),
        rejected=ex([5, 6, 7, 10, 11, 12], [-100, -100, -100, 10, 11, 12]),
    )
    assert pair.row_length(True) == 9
    assert pair.row_length(False) == 6
    assert collate_pairs([pair], PAD, shared_prompt=True)["input_ids"].shape == (1, 9)
    assert collate_pairs([pair], PAD, shared_prompt=False)["input_ids"].shape == (2, 6)
