"""No [batch, length, vocabulary] tensor in a reference log-prob pass or a DPO step.

Every tensor any aten op returns (forward and backward) is recorded by a dispatch-mode probe
while a tiny model with a 40,000-token vocabulary computes the reference log-probs of a
preference batch and takes one DPO step: plain (Llama), with Gemma-2's final-logit soft-capping,
and wrapped in DistributedDataParallel (gloo, world size 1, in this process). The values and the
gradients equal the full-logits computation."""

import pytest
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from polyalign.models.position_logits import position_logits
from polyalign.preference.examples import PairExample, collate_pairs
from polyalign.preference.train import preference_loss
from polyalign.train.data import Example
from polyalign.train.logprobs import position_ids_from_mask, response_logps
from polyalign.train.losses import sequence_nll

VOCAB = 40_000
PAD = 0
SOFTCAP = 2.0


class ShapeProbe(TorchDispatchMode):
    """Records the shape of every tensor an aten op returns."""

    def __init__(self):
        super().__init__()
        self.shapes: list[tuple[str, tuple[int, ...]]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self.shapes.append((str(func), tuple(t.shape)))
        return out

    def full_vocab_tensors(self, rows: int, length: int) -> list:
        """Tensors holding a vocabulary-wide row for at least every position of the batch but
        the last: [B, T, V], [B, T−1, V], [B·T, V] and the like."""
        return [
            (f, s)
            for f, s in self.shapes
            if s and s[-1] == VOCAB and _numel(s) // VOCAB >= rows * (length - 1)
        ]


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=64,
        pad_token_id=PAD,
    )
    return LlamaForCausalLM(cfg)


def _gemma2():
    from transformers import Gemma2Config, Gemma2ForCausalLM

    torch.manual_seed(0)
    cfg = Gemma2Config(
        vocab_size=VOCAB,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        max_position_embeddings=64,
        final_logit_softcapping=SOFTCAP,
        pad_token_id=PAD,
    )
    model = Gemma2ForCausalLM(cfg)
    with torch.no_grad():  # logits well past the cap, so that capping changes them
        model.get_output_embeddings().weight.mul_(40.0)
    return model


# (prompt, chosen response, rejected response): prompts are most of the tokens, as in the paper
PAIRS = [
    (list(range(100, 124)), [7, 8, 9, 10], [11, 12]),
    (list(range(200, 218)), [13, 14], [15, 16, 17, 18, 19]),
]


def _batch():
    items = []
    for k, (prompt, chosen, rejected) in enumerate(PAIRS):
        sides = [Example(f"p{k}", prompt + r, [-100] * len(prompt) + r) for r in (chosen, rejected)]
        items.append(PairExample(f"p{k}", sides[0], sides[1], s_pos=0.2, s_neg=0.6))
    return collate_pairs(items, PAD, shared_prompt=False)


def _full_logits_logps(model, batch):
    """The reference computation: the model's full [B, T, V] logits."""
    mask = batch["attention_mask"]
    logits = model(
        input_ids=batch["input_ids"],
        attention_mask=mask,
        position_ids=position_ids_from_mask(mask),
        use_cache=False,
    ).logits
    return -sequence_nll(logits, batch["labels"])[0]


def _reference_pass_and_dpo_step(model, batch):
    """Reference log-probs under no_grad, then one DPO loss, backward and SGD step."""
    with torch.no_grad():
        ref = response_logps(model, batch["input_ids"], batch["attention_mask"], batch["labels"])
    k = batch["weights"].shape[0]
    batch = {**batch, "ref_chosen": ref[:k] - 0.5, "ref_rejected": ref[k:] + 0.5}
    loss, _ = preference_loss(model, batch, beta=0.1, lam=0.0, gamma_sft=0.05, anchor_weighting="uniform")
    loss.backward()
    return ref, loss


@pytest.fixture
def gloo_world(tmp_path):
    store = dist.FileStore(str(tmp_path / "store"), 1)
    dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def _check(model, wrapped):
    batch = _batch()
    rows, length = batch["input_ids"].shape
    # expected values and gradients from the full logits, on the bare model
    model.train()
    expected_ref = _full_logits_logps(model, batch).detach()
    k = batch["weights"].shape[0]
    exp_batch = {**batch, "ref_chosen": expected_ref[:k] - 0.5, "ref_rejected": expected_ref[k:] + 0.5}
    with pytest.MonkeyPatch.context() as mp:  # the same DPO loss on the full logits' log-probs
        mp.setattr(
            "polyalign.train.logprobs.response_logps",
            lambda m, ids, mask, labels, return_n_tokens=False: (
                _full_logits_logps(m, {"input_ids": ids, "attention_mask": mask, "labels": labels}),
                (labels[:, 1:] != -100).sum(dim=1),
            ),
        )
        expected_loss, _ = preference_loss(
            model, exp_batch, beta=0.1, lam=0.0, gamma_sft=0.05, anchor_weighting="uniform"
        )
    model.zero_grad()
    expected_loss.backward()
    expected_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()

    probe = ShapeProbe()
    with probe:
        ref, loss = _reference_pass_and_dpo_step(wrapped, batch)
    assert any(s == (VOCAB, 16) or s == (16, VOCAB) for _, s in probe.shapes), "the probe saw no backward op"
    assert probe.full_vocab_tensors(rows, length) == []
    torch.testing.assert_close(ref, expected_ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(loss, expected_loss, rtol=1e-5, atol=1e-6)
    for p, g in zip(model.parameters(), expected_grads):
        torch.testing.assert_close(p.grad, g, rtol=1e-4, atol=1e-6)


def test_plain_head_has_no_full_logits():
    model = _llama()
    _check(model, model)


def test_softcapped_gemma2_has_no_full_logits():
    model = _gemma2()
    batch = _batch()
    keep = batch["labels"] != -100
    with torch.no_grad():
        capped = position_logits(
            model, keep, input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        )
        hidden = model.model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).last_hidden_state
        raw = model.lm_head(hidden[keep])
    assert raw.abs().max() > 3 * SOFTCAP  # the cap matters for these logits ...
    torch.testing.assert_close(capped, torch.tanh(raw / SOFTCAP) * SOFTCAP)  # ... and is applied
    _check(model, model)


def test_ddp_wrapped_model_has_no_full_logits(gloo_world):
    model = _llama()
    _check(model, DistributedDataParallel(model))


def test_model_without_output_projection_computes_full_logits_in_chunks(monkeypatch):
    """The fallback: full logits of a few sequences at a time, never of the whole batch."""
    from polyalign.models import position_logits as pl

    model = _llama().eval()
    batch = _batch()
    rows, length = batch["input_ids"].shape
    monkeypatch.setattr(model, "get_output_embeddings", lambda: None)
    monkeypatch.setattr(pl, "FULL_LOGITS_ELEMENTS", 2 * length * VOCAB)  # two sequences at a time
    keep = batch["labels"] != -100
    probe = ShapeProbe()
    with torch.no_grad(), probe:
        got = position_logits(
            model, keep, input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        )
    with torch.no_grad():
        want = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[keep]
    torch.testing.assert_close(got, want)
    assert max(_numel(s) // VOCAB for f, s in probe.shapes if s and s[-1] == VOCAB) <= 2 * length
