"""The critic: pure losses by hand, learning on synthetic data with a tiny random Llama
encoder, the collapse check, and the bundle round trip."""

import json
import random

import numpy as np
import pytest
import torch

from polyalign.critic import (
    CriticCollapsed,
    UnknownBucketError,
    critic_loss,
    critic_metrics,
    encode_responses,
    heldout_mask,
    load_critic,
    prompt_pairs,
    ranking_hinge,
    train_critic,
)
from polyalign.io import InputError

from .conftest import build_tiny_llama, build_tiny_tokenizer

CASUAL = "yeah lol ok sure nah cool haha yep fine dunno".split()
FORMAL = "certainly furthermore however therefore indeed moreover consequently notably".split()


def tiny_encoder(tmp_path):
    torch.set_num_threads(1)
    tokenizer = build_tiny_tokenizer([" ".join(CASUAL + FORMAL)] * 3, vocab_size=300, pad=None)
    model = build_tiny_llama(len(tokenizer))
    path = tmp_path / "encoder"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path), model, tokenizer


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    return tiny_encoder(tmp_path_factory.mktemp("critic"))


def synthetic_rows(n_prompts=150, seed=0, with_model=True, constant=None):
    """Human answers are mostly casual, model answers mostly formal; the target grows with
    the share of formal words (a stand-in for D_b)."""
    rng = random.Random(seed)
    rows = []

    def answer(p_formal):
        words = [rng.choice(FORMAL if rng.random() < p_formal else CASUAL) for _ in range(rng.randint(3, 9))]
        share = sum(w in FORMAL for w in words) / len(words)
        return " ".join(words), share

    for i in range(n_prompts):
        bucket = ["en|single|qa|short", "zh|multi|dialogue|short"][i % 2]
        sides = [("human", 0.15)] + ([("model", 0.85)] if with_model else [])
        for source, p in sides:
            text, share = answer(p)
            target = constant if constant is not None else 3.0 * share
            rows.append(
                {"id": f"p{i}", "bucket_id": bucket, "text": text, "source": source, "target": target}
            )
    return rows


def test_ranking_hinge_by_hand():
    c_model = torch.tensor([0.5, 0.15, 0.0])
    c_human = torch.tensor([0.1, 0.1, 0.3])
    # margins: relu(0.1 - 0.4) = 0, relu(0.1 - 0.05) = 0.05, relu(0.1 + 0.3) = 0.4 -> mean 0.15
    assert ranking_hinge(c_model, c_human, 0.1).item() == pytest.approx(0.15)
    assert ranking_hinge(torch.zeros(0), torch.zeros(0)).item() == 0.0


def test_critic_loss_by_hand():
    pred = torch.tensor([0.0, 1.0, 0.2, 0.25], requires_grad=True)
    target = torch.tensor([0.5, 1.0, 0.0, 1.0])
    # L1 = (0.5 + 0 + 0.2 + 0.75) / 4 = 0.3625; pairs (model 1, human 0): relu(0.1 - 1) = 0;
    # (model 3, human 2): relu(0.1 - 0.05) = 0.05 -> hinge 0.025
    total, l1, hinge = critic_loss(pred, target, torch.tensor([1, 3]), torch.tensor([0, 2]))
    assert l1.item() == pytest.approx(0.3625) and hinge.item() == pytest.approx(0.025)
    assert total.item() == pytest.approx(0.3875)
    total.backward()
    assert pred.grad is not None


def test_pairs_split_and_metrics():
    h, m = prompt_pairs(
        ["a", "a", "a", "b", "c", "c"], ["human", "model", "model", "human", "model", "human"]
    )
    assert list(zip(h, m)) == [(0, 1), (0, 2), (5, 4)]
    mask = heldout_mask([f"p{i}" for i in range(1000)] * 2, 0.2, seed=0)
    assert 150 < mask[:1000].sum() < 250 and (mask[:1000] == mask[1000:]).all()
    metrics = critic_metrics(
        np.array([0.0, 1.0, 1.0, 0.0]),
        np.array([0.0, 2.0, 1.0, 1.0]),
        ["a", "a", "b", "b"],
        ["human", "model", "human", "model"],
    )
    # scores: a right (1 > 0) -> 1, b wrong (0 < 1) -> 0; targets: a right -> 1, b tie -> 0.5
    assert metrics["ranking_accuracy"] == 0.5 and metrics["target_ranking_accuracy"] == 0.75
    assert metrics["mae"] == pytest.approx((0 + 1 + 0 + 1) / 4) and metrics["n_pairs"] == 2
    ties = critic_metrics(np.zeros(2), np.array([0.0, 1.0]), ["a", "a"], ["human", "model"])
    assert ties["ranking_accuracy"] == 0.5 and ties["spearman"] is None


def test_encoder_pools_response_tokens_padding_invariant(encoder):
    _, model, tokenizer = encoder
    texts = ["yeah ok", "certainly furthermore however therefore indeed"]
    both = encode_responses(model, tokenizer, texts, batch_size=2)
    alone = encode_responses(model, tokenizer, texts[:1], batch_size=1)
    np.testing.assert_allclose(both[0], alone[0], rtol=1e-5, atol=1e-5)
    with_prompt = encode_responses(model, tokenizer, texts[:1], prompts=["lol " * 5])
    assert not np.allclose(with_prompt[0], alone[0])
    with pytest.raises(ValueError, match="row 0"):
        encode_responses(model, tokenizer, [" "])


@pytest.mark.slow  # trains or renders repeatedly: full lane only
def test_critic_learns_and_bundle_round_trips(encoder, tmp_path):
    path, model, tokenizer = encoder
    rows = synthetic_rows()
    config = train_critic(rows, tmp_path / "critic", encoder_path=path, settings={"epochs": 60, "seed": 1})
    held = config["metrics"]["heldout"]
    assert held["n_pairs"] >= 15
    assert held["ranking_accuracy"] > 0.8 and held["spearman"] > 0.5
    assert held["mae"] < np.mean([abs(r["target"] - 1.5) for r in rows])
    saved = json.loads((tmp_path / "critic" / "config.json").read_text())
    assert saved["encoder_path"] == path and saved["training"]["bucket_dim"] == 64
    assert json.loads((tmp_path / "critic" / "buckets.json").read_text())["buckets"] == [
        "en|single|qa|short",
        "zh|multi|dialogue|short",
    ]

    critic = load_critic(tmp_path / "critic")  # encoder loaded from the saved path
    texts = [r["text"] for r in rows[:6]]
    buckets = [r["bucket_id"] for r in rows[:6]]
    scores = critic.score(texts, buckets, batch_size=4)
    again = load_critic(tmp_path / "critic", model=model, tokenizer=tokenizer).score(
        texts, buckets, batch_size=1
    )
    np.testing.assert_allclose(scores, again, rtol=1e-5, atol=1e-6)
    assert scores.dtype == np.float64 and scores.shape == (6,)
    with pytest.raises(UnknownBucketError, match="en\\|new"):
        critic.score(texts[:1], ["en|new"])
    with pytest.raises(InputError, match="prompts"):
        critic.score(texts[:1], buckets[:1], prompts=["x"])


def test_prompt_conditioned_critic_needs_prompts(encoder, tmp_path):
    path, model, tokenizer = encoder
    rows = [dict(r, prompt=f"question {r['id']}") for r in synthetic_rows(n_prompts=40)]
    config = train_critic(
        rows,
        tmp_path / "critic",
        encoder_path=path,
        model=model,
        tokenizer=tokenizer,
        settings={"conditioning": "prompt", "epochs": 5},
    )
    assert config["training"]["conditioning"] == "prompt"
    critic = load_critic(tmp_path / "critic", model=model, tokenizer=tokenizer)
    assert critic.needs_prompts
    assert critic.score(["yeah ok"], [rows[0]["bucket_id"]], prompts=["hi"]).shape == (1,)
    with pytest.raises(InputError, match="prompt-conditioned"):
        critic.score(["yeah ok"], [rows[0]["bucket_id"]])


def test_collapse_on_constant_targets_fails_loudly_and_writes_nothing(encoder, tmp_path):
    path, model, tokenizer = encoder
    rows = synthetic_rows(n_prompts=80, with_model=False, constant=0.0)
    with pytest.raises(CriticCollapsed, match="collapsed") as info:
        train_critic(
            rows,
            tmp_path / "critic",
            encoder_path=path,
            model=model,
            tokenizer=tokenizer,
            settings={"epochs": 60},
        )
    assert info.value.metrics["heldout"]["score_std"] < 0.01
    assert not (tmp_path / "critic").exists()


def test_bad_rows_are_rejected(encoder, tmp_path):
    path, model, tokenizer = encoder
    good = synthetic_rows(n_prompts=4)
    for bad, match in [
        ({"source": "bot"}, "source"),
        ({"target": float("nan")}, "target"),
        ({"text": "  "}, "empty text"),
    ]:
        rows = [dict(good[0], **bad)] + good[1:]
        with pytest.raises(InputError, match=match):
            train_critic(rows, tmp_path / "c", encoder_path=path, model=model, tokenizer=tokenizer)
    with pytest.raises(InputError, match="prompt"):
        train_critic(
            good,
            tmp_path / "c",
            encoder_path=path,
            model=model,
            tokenizer=tokenizer,
            settings={"conditioning": "prompt"},
        )
