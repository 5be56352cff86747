import json

import numpy as np
import pytest
import torch

from polyalign.buckets import rebucket
from polyalign.config import fill_defaults
from polyalign.models import load_model, save_model
from polyalign.train.data import build_examples, collate
from polyalign.train.losses import weighted_sft_loss
from polyalign.train.sft import (
    BACKOFF_LEVELS,
    backoff_levels,
    bucket_config,
    bucket_sft_weights,
    pretrain_base,
    sft_loss,
    stage_train_config,
    train_sft,
)
from tests.models.micro import (  # noqa: F401 (fixture)
    MICRO_MODEL,
    micro_model,
    micro_records,
    micro_settings,
    micro_tokenizer,
    one_thread,
)

PROMPT = {"max_prompt_tokens": 150, "max_history_turns": 2}
CONFIG = fill_defaults(
    {
        "model": {**MICRO_MODEL, "max_length": 192},
        "prompt": PROMPT,
        "train_common": {"micro_batch_size": 4, "checkpoint_every": 0, "log_every": 1},
        "pretrain": {"lr": 1e-2, "max_steps": 4},
        "sft": {"lr": 1e-2, "max_steps": 3},
    }
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("base")
    tok = micro_tokenizer()
    save_model(micro_model(tok, max_length=192), tok, d)
    return d


def _grads(model, batch):
    model.zero_grad()
    loss, _ = sft_loss(model, batch)
    loss.backward()
    return loss.detach(), torch.cat([p.grad.flatten() for p in model.parameters()])


def test_batch_of_one_applies_its_weight():
    tok = micro_tokenizer()
    model = micro_model(tok)
    ex = build_examples(micro_records()[:1], tok, "plain", max_length=128, max_prompt_tokens=80)
    batch = collate(ex, tok.pad_token_id, "left")
    loss1, g1 = _grads(model, batch)
    batch["weights"] = torch.tensor([2.5])
    loss2, g2 = _grads(model, batch)
    assert loss2.item() == pytest.approx(2.5 * loss1.item(), rel=1e-6)
    assert torch.allclose(g2, 2.5 * g1, rtol=1e-4, atol=1e-6)


def test_sft_loss_matches_full_logits_right_padding():
    tok = micro_tokenizer()
    model = micro_model(tok)
    ex = build_examples(
        micro_records()[:6],
        tok,
        "plain",
        max_length=128,
        max_prompt_tokens=80,
        weights=np.linspace(0.2, 2.0, 6),
    )
    left, right = collate(ex, tok.pad_token_id, "left"), collate(ex, tok.pad_token_id, "right")
    ours, _ = sft_loss(model, left)
    logits = model(input_ids=right["input_ids"], attention_mask=right["attention_mask"]).logits
    full = weighted_sft_loss(logits, right["labels"], right["weights"])
    assert ours.item() == pytest.approx(full.item(), rel=1e-5)


def test_sft_projects_only_the_label_positions_and_matches_full_logit_gradients():
    """The vocabulary projection sees one row per response token (not the batch's prompts,
    padding or the other rows' longer responses), and the gradient is that of full logits."""
    tok = micro_tokenizer()
    model = micro_model(tok)
    ex = build_examples(micro_records()[:6], tok, "plain", max_length=128, max_prompt_tokens=80)
    batch = collate(ex, tok.pad_token_id, "left")
    rows = []
    hook = model.get_output_embeddings().register_forward_hook(lambda m, i, o: rows.append(o.shape))
    loss, grads = _grads(model, batch)
    hook.remove()
    n_labels = sum(sum(1 for x in e.labels if x != -100) for e in ex)
    assert rows == [torch.Size([n_labels, model.config.vocab_size])]
    assert n_labels < batch["input_ids"].numel() / 2
    model.zero_grad()
    right = collate(ex, tok.pad_token_id, "right")
    logits = model(input_ids=right["input_ids"], attention_mask=right["attention_mask"]).logits
    full = weighted_sft_loss(logits, right["labels"], right["weights"])
    full.backward()
    reference = torch.cat([p.grad.flatten() for p in model.parameters()])
    assert loss.item() == pytest.approx(full.item(), rel=1e-5)
    assert torch.allclose(grads, reference, rtol=1e-4, atol=1e-6)


def test_examples_mask_the_prompt_and_end_with_eos():
    tok = micro_tokenizer()
    r = micro_records()[0]
    (ex,) = build_examples([r], tok, "plain", max_length=128, max_prompt_tokens=80)
    answer = tok(r["human_answer"], add_special_tokens=False)["input_ids"]
    n = len(answer) + 1
    assert ex.input_ids[-n:] == answer + [tok.eos_token_id]
    assert ex.labels[-n:] == answer + [tok.eos_token_id] and set(ex.labels[:-n]) == {-100}
    (cut,) = build_examples([r], tok, "plain", max_length=len(ex.input_ids) - 2, max_prompt_tokens=80)
    assert cut.input_ids[-1] != tok.eos_token_id and len(cut.input_ids) == len(ex.input_ids) - 2
    (lm,) = build_examples([r], tok, "plain", max_length=128, max_prompt_tokens=80, loss_on_prompt=True)
    assert lm.labels == lm.input_ids


def test_profile_training_prompts_carry_the_gold_length_unless_none():
    tok = micro_tokenizer()
    r = micro_records()[0]
    for mode, expect in (("sampled", "length=medium."), ("gold", "length=medium."), ("none", "open_chat.")):
        (ex,) = build_examples([r], tok, "profile", max_length=192, profile_length=mode, **PROMPT)
        assert expect in tok.decode(ex.input_ids)


def test_stage_configs_inherit():
    cfg = {"train_common": {"seed": 5}, "sft": {"lr": 0.5}, "bucket_sft": {"tau": 0.5, "epochs": 3}}
    sft, bsft = stage_train_config(cfg, "sft"), stage_train_config(cfg, "bucket_sft")
    assert (sft.seed, sft.lr, bsft.seed, bsft.lr, bsft.epochs) == (5, 0.5, 5, 0.5, 3)
    pretrain = stage_train_config({}, "pretrain")
    assert (pretrain.lr, pretrain.epochs, pretrain.micro_batch_size) == (3e-3, 1, 8)
    assert bucket_config(cfg) == {
        "tau": 0.5,
        "cap": None,
        "sampler": "weighted_loss",
        "backoff": True,
        "profile_prompts": True,
        "min_bucket_size": 20,
    }
    assert bucket_config({**cfg, "min_bucket_size": 7})["min_bucket_size"] == 7
    with pytest.raises(ValueError):
        bucket_config({"bucket_sft": {"sampler": "magic"}})


def test_pretrain_base_from_scratch(tmp_path):
    tok = micro_tokenizer()
    tok.save_pretrained(tmp_path / "tok")
    summary = pretrain_base(micro_records(), tmp_path / "tok", CONFIG, tmp_path / "base", progress=False)
    assert summary["trained"] and summary["train"]["steps"] == 4
    model, back = load_model(tmp_path / "base", micro_settings())
    assert model.config.hidden_size == 32 and back.chat_template == tok.chat_template
    assert json.loads((tmp_path / "base" / "train_summary.json").read_text())["stage"] == "pretrain"


@pytest.mark.parametrize("sampler", ["weighted_loss", "weighted_sampler"])
def test_bucket_sft_end_to_end(tmp_path, base_dir, sampler):
    records = micro_records()
    config = {
        **CONFIG,
        "train_common": {**CONFIG["train_common"], "micro_batch_size": 1},
        "bucket_sft": {"tau": 1.0, "sampler": sampler},
        "min_bucket_size": 1,
    }  # micro buckets: no back-off
    summary = train_sft(records, base_dir, config, tmp_path, "bucket_sft", progress=False)
    weights = summary["bucket_weights"]
    assert sum(v["n"] * v["weight"] for v in weights.values()) == pytest.approx(len(records))
    assert summary["weighting"]["buckets_backed_off"] == 0
    mass = summary["weighting"]["loss_mass"]
    assert sum(v["loss_mass"] for v in mass["by_language"].values()) == pytest.approx(1.0)
    rows = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    seen = {round(r["weight_mean"], 6) for r in rows}
    if sampler == "weighted_loss":  # batch size 1: the logged mean weight is that example's weight
        assert seen <= {round(v["weight"], 6) for v in weights.values()} and seen != {1.0}
    else:
        assert seen == {1.0}
    assert (tmp_path / "model.safetensors").exists()


def test_bucket_sft_without_profile_prompts_or_weights_is_exactly_sft(tmp_path, base_dir):
    """profile_prompts false drops the profile from the prompts; with tau 0 as well nothing is left
    of Bucket-SFT, so the weights equal SFT's bit for bit (and with tau 1 the bucket weights stay)."""
    records = micro_records()
    sft = train_sft(records, base_dir, CONFIG, tmp_path / "sft", "sft", progress=False)
    plain = {**CONFIG, "bucket_sft": {"tau": 0.0, "profile_prompts": False}}
    bare = train_sft(records, base_dir, plain, tmp_path / "bare", "bucket_sft", progress=False)
    assert (sft["style"], bare["style"]) == ("plain", "plain")
    a, _ = load_model(tmp_path / "sft", micro_settings())
    b, _ = load_model(tmp_path / "bare", micro_settings())
    assert all(
        torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )
    weighted = {**CONFIG, "bucket_sft": {"tau": 1.0, "profile_prompts": False}, "min_bucket_size": 1}
    kept = train_sft(records, base_dir, weighted, tmp_path / "kept", "bucket_sft", progress=False)
    assert kept["style"] == "plain" and len({v["weight"] for v in kept["bucket_weights"].values()}) > 1
    profiled = train_sft(
        records,
        base_dir,
        {**CONFIG, "bucket_sft": {"tau": 0.0}},
        tmp_path / "p",
        "bucket_sft",
        progress=False,
    )
    assert profiled["style"] == "profile"


def test_bucket_sft_weights_back_off_small_buckets():
    records = micro_records()  # 16 en, 8 zh: every bucket, parent and language is under 20
    w, report = bucket_sft_weights(records, bucket_config({}))
    np.testing.assert_allclose(w, np.ones(len(records)))  # all back off to the whole set: plain weights
    assert report["weighting"]["buckets_backed_off"] == len(report["bucket_weights"])
    assert {v["unit"] for v in report["bucket_weights"].values()} == {"backoff:all"}
    # min_bucket_size 6: zh|single|dialogue|short (6) keeps its own unit; every other bucket (5, 5, 3,
    # 3 en; 2 zh) backs off to its parent (language, track, family), each of which has 8 records.
    # raw 1/n_u: 6 x 1/6 + 18 x 1/8 = 3.25; w = raw * 24 / 3.25
    w, report = bucket_sft_weights(records, bucket_config({"min_bucket_size": 6}))
    own = np.array([r["bucket_id"] == "zh|single|dialogue|short" for r in records])
    np.testing.assert_allclose(w[own], 24 / 6 / 3.25)
    np.testing.assert_allclose(w[~own], 24 / 8 / 3.25)
    assert report["bucket_weights"]["en|multi|dialogue|medium"]["unit"] == "backoff:en|multi|dialogue"
    mass = report["weighting"]["loss_mass"]["by_language"]
    assert mass["zh"]["loss_mass"] == pytest.approx(1.25 / 3.25) and mass["en"]["loss_mass"] == pytest.approx(
        2 / 3.25
    )


def test_bucket_sft_weights_under_a_variants_bucket_key():
    # the run's default key, then a variant's key without the family: 4 en|single|short (2 qa, 2
    # dialogue), 1 en|single|long (qa), 3 zh|single|short (qa)
    fields = [("en", "qa", "short")] * 2 + [("en", "dialogue", "short")] * 2 + [("en", "qa", "long")]
    fields += [("zh", "qa", "short")] * 3
    run = [
        {
            "language": lang,
            "track": "single",
            "family": fam,
            "length_bin": lb,
            "bucket_id": f"{lang}|{fam}|{lb}",
        }
        for lang, fam, lb in fields
    ]
    key = ["language", "track", "length_bin"]
    records = rebucket(run, key)
    buckets = np.array([r["bucket_id"] for r in records])
    # no back-off, tau 1: every bucket of the key carries the same mass N/B = 8/3
    w, report = bucket_sft_weights(records, bucket_config({"bucket_sft": {"backoff": False}}), key)
    for b in ("en|single|short", "en|single|long", "zh|single|short"):
        assert w[buckets == b].sum() == pytest.approx(8 / 3)
    assert sorted(report["bucket_weights"]) == ["en|single|long", "en|single|short", "zh|single|short"]
    # min_bucket_size 2: en|single|long (1) backs off to (language, track) en|single (5 records),
    # not to its family's group; raw 1/n_u: 4 x 1/4 + 1/5 + 3 x 1/3 = 2.2, w = raw * 8 / 2.2
    w, report = bucket_sft_weights(records, bucket_config({"min_bucket_size": 2}), key)
    np.testing.assert_allclose(w[buckets == "en|single|long"], 8 / 5 / 2.2)
    np.testing.assert_allclose(w[buckets == "en|single|short"], 8 / 4 / 2.2)
    np.testing.assert_allclose(w[buckets == "zh|single|short"], 8 / 3 / 2.2)
    assert report["bucket_weights"]["en|single|long"]["unit"] == "backoff:en|single"


def test_backoff_levels_are_the_bucket_keys_coarser_groups():
    assert backoff_levels(["language", "track", "family", "length_bin"]) == list(BACKOFF_LEVELS)
    assert backoff_levels(["language", "track", "family"]) == [("language",)]
    assert backoff_levels(["language", "track", "length_bin"]) == [("language", "track"), ("language",)]
    assert backoff_levels(["language"]) == []


def test_plain_sft_end_to_end(tmp_path, base_dir):
    summary = train_sft(micro_records(), base_dir, CONFIG, tmp_path, "sft", progress=False)
    assert summary["train"]["steps"] == 3 and "bucket_weights" not in summary
    with pytest.raises(ValueError):
        train_sft(micro_records(), base_dir, CONFIG, tmp_path / "x", "dpo")


def test_sft_interrupted_then_rerun_from_a_changed_base_equals_a_clean_run(base_dir, tmp_path, monkeypatch):
    """Issue 12: the SFT checkpoint of a run from another base is set aside, not resumed."""
    from safetensors.torch import load_file

    import polyalign.train.sft as sft_module

    tok = micro_tokenizer()
    new_base = tmp_path / "new_base"
    save_model(micro_model(tok, max_length=192, seed=7), tok, new_base)
    config = {**CONFIG, "train_common": {**CONFIG["train_common"], "checkpoint_every": 1}}
    records = micro_records()
    train_sft(records, new_base, config, tmp_path / "clean", progress=False)

    real, calls = sft_module.sft_loss, []

    def killed_in_step_3(model, batch):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(model, batch)

    out = tmp_path / "out"
    monkeypatch.setattr(sft_module, "sft_loss", killed_in_step_3)
    with pytest.raises(KeyboardInterrupt):
        train_sft(records, base_dir, config, out, progress=False)
    assert (out / "checkpoints" / "step-2").is_dir()
    monkeypatch.setattr(sft_module, "sft_loss", real)
    summary = train_sft(records, new_base, config, out, progress=False)
    assert summary["train"]["resumed_from_step"] is None
    a, b = load_file(out / "model.safetensors"), load_file(tmp_path / "clean" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    (reason,) = out.glob("checkpoints.set-aside/*/REASON.txt")
    assert "start_model" in reason.read_text()
