"""HDPO/DPO training of a micro model on the shared trainer: every parameter moves, the
preference margin rises, DPO's loss is sigmoid DPO, and an interrupted run resumes exactly."""

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import polyalign.preference.train as ptrain
from polyalign.config import block_defaults
from polyalign.io import write_jsonl
from polyalign.models import load_model
from polyalign.preference.config import loss_settings, preference_settings, preference_stage
from polyalign.preference.examples import collate_pairs
from polyalign.preference.reference_cache import build_reference_cache
from polyalign.preference.train import preference_job, preference_loss, prepare_items, train_preference
from polyalign.train.logprobs import response_logps, split_pair
from polyalign.train.losses import dpo_loss

from .conftest import micro_config, micro_settings


def margins(model, items, pad_id, beta=0.1):
    """z of every pair under `model` against the reference log-probs attached to `items` (the
    log-probs from one row per side: the layout the trainer's shared-prompt rows must match)."""
    batch = collate_pairs(items, pad_id, shared_prompt=False)
    with torch.no_grad():
        lp = response_logps(model.eval(), batch["input_ids"], batch["attention_mask"], batch["labels"])
    pc, pr = split_pair(lp, len(items))
    return beta * ((pc - batch["ref_chosen"]) - (pr - batch["ref_rejected"]))


def test_hdpo_trains_every_parameter_and_raises_margin(micro, train_pairs, tmp_path):
    start, tok = micro
    config = micro_config(max_steps=8)
    out = tmp_path / "hdpo"
    summary = train_preference(train_pairs, start, config, "hdpo", out, progress=False)
    shared = block_defaults("preference")  # the micro config leaves HDPO's loss at the defaults
    assert summary["train"]["steps"] == 8 and {k: v for k, v in summary["loss"].items() if k != "lam"} == {
        k: shared[k] for k in ("beta", "gamma_sft", "anchor_weighting")
    }
    # λ is relative (lam_normalization gradient): the loss's λ is derived from the setting
    assert summary["lam"]["setting"] == shared["lam"] and summary["lam"]["normalization"] == "gradient"
    assert summary["loss"]["lam"] == summary["lam"]["loss"] > 0

    before = load_file(str(start / "model.safetensors"))
    after = load_file(str(out / "model.safetensors"))
    assert before.keys() == after.keys()
    unchanged = [k for k in before if torch.equal(before[k], after[k])]
    assert not unchanged, f"parameters that did not move: {unchanged}"

    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    for key in ("accuracy", "reward_margin", "weight_mean", "critic_gap", "r_term", "anchor", "dpo_term"):
        assert key in log[0]
    assert abs(log[0]["reward_margin"]) < 1e-4  # policy == reference at the first step
    assert log[0]["r_term"] > 0 and log[0]["anchor"] > 0

    ref_model, _ = load_model(start, micro_settings())
    items = prepare_items(train_pairs, ref_model, tok, preference_stage(config, "hdpo"))
    z0 = margins(ref_model, items, tok.pad_token_id)
    trained, _ = load_model(out, micro_settings())
    z1 = margins(trained, items, tok.pad_token_id)
    assert z0.abs().max() < 1e-4
    assert z1.mean() > 0.5 and (z1 > 0).float().mean() >= 0.75


def test_dpo_system_loss_is_sigmoid_dpo(micro, train_pairs):
    start, tok = micro
    model, _ = load_model(start, micro_settings())
    config = micro_config()
    with pytest.raises(ValueError, match="pair_weights are disabled"):
        prepare_items(train_pairs, model, tok, preference_stage(config, "dpo"))  # HDPO pairs given to DPO
    plain = [dict(p, weight=1.0, s_pos=0.0, s_neg=0.0) for p in train_pairs]
    # language balance: unit clipped weights, one constant per language (6 en, 2 zh of 8 -> 8/2/6, 8/2/2)
    balanced = [dict(p, weight_clipped=1.0, weight=4 / 6 if p["language"] == "en" else 2.0) for p in plain]
    with pytest.raises(ValueError, match="vary within a language"):
        prepare_items(balanced, model, tok, preference_stage(config, "dpo"))  # the paper's DPO: no balancing
    balanced_config = {**config, "dpo": {**config["dpo"], "language_balance": True}}
    prepare_items(balanced, model, tok, preference_stage(balanced_config, "dpo"))  # the balanced variant
    with pytest.raises(ValueError, match="vary within a language"):
        prepare_items(
            [dict(p, weight=1.0 + 0.1 * i) for i, p in enumerate(balanced)],
            model,
            tok,
            preference_stage(balanced_config, "dpo"),
        )
    items = prepare_items(plain, model, tok, preference_stage(config, "dpo"))
    batch = collate_pairs(items, tok.pad_token_id, shared_prompt=True)
    batch["ref_chosen"] = batch["ref_chosen"] - 0.3  # a non-zero margin
    loss, metrics = preference_loss(model, batch, **loss_settings(preference_settings(config, "dpo")))
    rows = collate_pairs(items, tok.pad_token_id, shared_prompt=False)  # one row per side
    with torch.no_grad():
        pc, pr = split_pair(
            response_logps(model, rows["input_ids"], rows["attention_mask"], rows["labels"]), 8
        )
    expected = dpo_loss(pc, pr, batch["ref_chosen"], batch["ref_rejected"], 0.1)[0].mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert metrics["r_term"] == 0.0 and metrics["anchor"] == 0.0


def test_pair_weighted_anchor_reaches_the_loss(micro, train_pairs):
    # preference_loss passes anchor_weighting to hdpo_loss: the anchor is γ_sft (1/K) Σ w_i NLL_i
    # with the batch's pair weights (which vary here), the uniform one γ_sft (1/K) Σ NLL_i
    start, tok = micro
    model, _ = load_model(start, micro_settings())
    config = micro_config()
    items = prepare_items(train_pairs, model, tok, preference_stage(config, "hdpo"))
    batch = collate_pairs(items, tok.pad_token_id, shared_prompt=True)
    assert batch["weights"].unique().numel() > 1
    rows = collate_pairs(items, tok.pad_token_id, shared_prompt=False)
    with torch.no_grad():
        lp, n = response_logps(
            model, rows["input_ids"], rows["attention_mask"], rows["labels"], return_n_tokens=True
        )
    k = batch["weights"].shape[0]
    nll = -split_pair(lp, k)[0] / split_pair(n, k)[0]
    settings = loss_settings(preference_settings(config, "hdpo"))
    _, uniform = preference_loss(model, batch, **settings)
    _, weighted = preference_loss(model, batch, **{**settings, "anchor_weighting": "pair_weights"})
    assert uniform["anchor"] == pytest.approx(0.05 * nll.mean().item(), rel=1e-5)
    assert weighted["anchor"] == pytest.approx(0.05 * (batch["weights"] * nll).mean().item(), rel=1e-5)
    assert weighted["anchor"] != pytest.approx(uniform["anchor"], rel=1e-3)


@pytest.mark.slow  # trains or renders repeatedly: full lane only
def test_resume_through_shared_trainer(micro, train_pairs, tmp_path, monkeypatch):
    start, tok = micro
    config = micro_config(max_steps=4, checkpoint_every=2)
    cache = tmp_path / "ref.jsonl"
    build_reference_cache(train_pairs, start, config, "hdpo", cache, progress=False)
    full = tmp_path / "full"
    train_preference(train_pairs, start, config, "hdpo", full, reference=cache, progress=False)

    calls = {"n": 0}
    # the kill is injected below the loss function: swapping the loss itself is a code change,
    # which the run identity refuses to resume (tests/train/test_checkpoint.py)
    real = ptrain.pair_logps

    def crash_at_step_3(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 3:  # one policy forward per micro-batch, one micro-batch per step: step 3
            raise KeyboardInterrupt("killed")
        return real(*args, **kw)

    resumed = tmp_path / "resumed"
    monkeypatch.setattr(ptrain, "pair_logps", crash_at_step_3)
    with pytest.raises(KeyboardInterrupt):
        train_preference(train_pairs, start, config, "hdpo", resumed, reference=cache, progress=False)
    assert (resumed / "checkpoints" / "step-2").is_dir()
    monkeypatch.setattr(ptrain, "pair_logps", real)
    summary = train_preference(train_pairs, start, config, "hdpo", resumed, reference=cache, progress=False)
    assert summary["train"]["resumed_from_step"] == 2
    a, b = load_file(str(full / "model.safetensors")), load_file(str(resumed / "model.safetensors"))
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    # a changed loss setting is a different run: its checkpoints are set aside, training starts fresh
    other_beta = dict(config, hdpo={"beta": 0.2})
    monkeypatch.setattr(ptrain, "pair_logps", crash_at_step_3)
    calls["n"] = 0
    with pytest.raises(KeyboardInterrupt):
        train_preference(
            train_pairs, start, config, "hdpo", tmp_path / "other", reference=cache, progress=False
        )
    monkeypatch.setattr(ptrain, "pair_logps", real)
    summary = train_preference(
        train_pairs, start, other_beta, "hdpo", tmp_path / "other", reference=cache, progress=False
    )
    assert summary["train"]["resumed_from_step"] is None
    (reason,) = (tmp_path / "other").glob("checkpoints.set-aside/*/REASON.txt")
    assert "fingerprint" in reason.read_text()


def test_changed_starting_checkpoint_is_not_resumed(micro, train_pairs, tmp_path, monkeypatch):
    """Interrupted from one start, rerun from another: equal to a clean run from the new start."""
    start, tok = micro
    config = micro_config(max_steps=4, checkpoint_every=2)
    cache = tmp_path / "ref.jsonl"
    build_reference_cache(train_pairs, start, config, "hdpo", cache, progress=False)
    new_start = tmp_path / "new_start"
    shutil.copytree(start, new_start)
    weights = load_file(str(new_start / "model.safetensors"))
    name = sorted(weights)[0]
    weights[name] = weights[name] + 0.01
    save_file(weights, str(new_start / "model.safetensors"), metadata={"format": "pt"})
    clean = tmp_path / "clean"
    train_preference(train_pairs, new_start, config, "hdpo", clean, reference=cache, progress=False)

    real = ptrain.preference_loss
    calls = {"n": 0}

    def crash_at_step_3(model, batch, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")
        return real(model, batch, **kw)

    out = tmp_path / "out"
    monkeypatch.setattr(ptrain, "preference_loss", crash_at_step_3)
    with pytest.raises(KeyboardInterrupt):
        train_preference(train_pairs, start, config, "hdpo", out, reference=cache, progress=False)
    monkeypatch.setattr(ptrain, "preference_loss", real)
    summary = train_preference(train_pairs, new_start, config, "hdpo", out, reference=cache, progress=False)
    assert summary["train"]["resumed_from_step"] is None
    a, b = load_file(str(clean / "model.safetensors")), load_file(str(out / "model.safetensors"))
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    (reason,) = out.glob("checkpoints.set-aside/*/REASON.txt")
    assert "start_model" in reason.read_text()


def no_training_loop(model, tokenizer, items, collate, loss, tcfg, out_dir, **kw):
    """Stands in for `trainer.train` where the loop is not under test: an empty log, no steps."""
    from polyalign.train import trainer

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / trainer.LOG_FILE).write_text("")
    return {"steps": 0}


def test_one_training_call_parses_the_preference_blocks_once(micro, train_pairs, tmp_path, monkeypatch):
    # the merged preference block was rebuilt and re-parsed five times along one call
    from polyalign.preference import config as preference_config
    from polyalign.train import trainer

    merges = []
    real_block = preference_config.method_block
    monkeypatch.setattr(preference_config, "method_block", lambda *a: merges.append(a[1:]) or real_block(*a))

    monkeypatch.setattr(trainer, "train", no_training_loop)
    start, _ = micro
    summary = train_preference(train_pairs, start, micro_config(), "hdpo", tmp_path / "hdpo", progress=False)
    assert merges == [("hdpo",)]
    # what the one parse gave: the preference block's loop keys and the method's settings
    assert summary["train_config"]["max_steps"] == 6 and summary["train_config"]["micro_batch_size"] == 4
    assert summary["critic"] is True and summary["pairs"] == len(train_pairs)


def test_the_summary_names_the_policy_a_variant_starts_from(micro, train_pairs, tmp_path, monkeypatch):
    from polyalign.train import trainer

    monkeypatch.setattr(trainer, "train", no_training_loop)
    start, _ = micro
    own = train_preference(train_pairs, start, micro_config(), "hdpo", tmp_path / "hdpo", progress=False)
    assert own["start_policy"] == "bucket_sft"
    # HDPO from SFT (an ablation variant): the checkpoint it starts from is SFT's
    job = {
        "stage": "hdpo",
        "start_policy": "sft",
        "config": micro_config(),
        "out_dir": str(tmp_path / "hdpo_from_sft"),
        "inputs": {"pairs": str(tmp_path / "pairs.jsonl"), "model": str(start)},
    }
    write_jsonl(tmp_path / "pairs.jsonl", train_pairs)
    assert preference_job(job)["start_policy"] == "sft"
