"""Resume integrity (issue 12): checkpoints hold no pickle, are verified against a manifest, and
are resumed only by the run that wrote them (same config, data, starting weights, tokenizer)."""

import json
import logging
import pickle
from functools import partial

import pytest
import torch
from safetensors.torch import load_file

from polyalign.train.checkpoint import CHECKPOINTS, MANIFEST, SET_ASIDE, STATE_FILE, write_manifest
from polyalign.train.data import build_examples, collate
from polyalign.train.sft import lm_loss
from polyalign.train.trainer import TrainConfig, train
from tests.models.micro import PROMPT, micro_model, micro_records, micro_tokenizer, one_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_thread")

CFG = dict(lr=1e-2, max_steps=6, micro_batch_size=4, checkpoint_every=2, log_every=1, seed=1)


class Interrupted(Exception):
    pass


@pytest.fixture(scope="module")
def data():
    tok = micro_tokenizer()
    ex = build_examples(micro_records()[:8], tok, "plain", max_length=128, loss_on_prompt=True, **PROMPT)
    return tok, ex


def run(out, data, *, model_seed=0, stop_after=None, **cfg):
    """Train the micro LM into `out`; with `stop_after=k`, raise (like a kill) in optimizer step k + 1."""
    tok, ex = data
    calls = []

    def loss_fn(model, batch):
        calls.append(1)
        if stop_after is not None and len(calls) > stop_after:
            raise Interrupted
        return lm_loss(model, batch)

    config = TrainConfig(**{**CFG, **cfg})
    return train(
        micro_model(tok, seed=model_seed),
        tok,
        ex,
        partial(collate, pad_id=tok.pad_token_id),
        loss_fn,
        config,
        out,
        progress=False,
    )


def interrupted(out, data, stop_after=5, **kw):
    with pytest.raises(Interrupted):
        run(out, data, stop_after=stop_after, **kw)
    assert (out / CHECKPOINTS).is_dir()
    return out


def assert_same_weights(a_dir, b_dir):
    a, b = load_file(a_dir / "model.safetensors"), load_file(b_dir / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.fixture(scope="module")
def straight(tmp_path_factory, data):
    """Uninterrupted reference runs, one per starting model seed."""
    root = tmp_path_factory.mktemp("straight")
    for seed in (0, 5):
        run(root / str(seed), data, model_seed=seed)
    return root


def test_changed_starting_model_sets_checkpoints_aside_and_trains_fresh(tmp_path, data, straight, caplog):
    out = interrupted(tmp_path / "run", data, model_seed=0)
    with caplog.at_level(logging.WARNING):
        summary = run(out, data, model_seed=5)  # same config and data, another base
    assert summary["resumed_from_step"] is None
    assert_same_weights(out, straight / "5")
    assert "start_model" in caplog.text and "another run" in caplog.text
    aside = list((out / SET_ASIDE).iterdir())
    assert len(aside) == 1 and (aside[0] / "step-4").is_dir() and (aside[0] / "train_log.jsonl").is_file()
    assert "start_model" in (aside[0] / "REASON.txt").read_text()
    steps = [json.loads(line)["step"] for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_changed_tokenizer_sets_checkpoints_aside(tmp_path, data, caplog):
    out = interrupted(tmp_path / "run", data)
    tok, ex = data
    other = micro_tokenizer()
    other.chat_template = other.chat_template + " "
    with caplog.at_level(logging.WARNING):
        train(
            micro_model(tok),
            other,
            ex,
            partial(collate, pad_id=tok.pad_token_id),
            lm_loss,
            TrainConfig(**CFG),
            out,
            progress=False,
        )
    assert "tokenizer" in caplog.text and "another run" in caplog.text


def test_resume_reads_no_pickle_and_reaches_the_same_weights(tmp_path, data, straight, monkeypatch):
    out = interrupted(tmp_path / "run", data)
    names = {p.name for p in (out / CHECKPOINTS / "step-4").iterdir()}
    assert not {n for n in names if n.endswith((".pkl", ".bin", ".pt"))}, names

    def refuse(*a, **k):
        raise AssertionError("pickle was read on resume")

    real_torch_load = torch.load
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(
        torch,
        "load",
        lambda *a, weights_only=False, **k: (
            real_torch_load(*a, weights_only=True, **k) if weights_only else refuse()
        ),
    )
    summary = run(out, data)
    assert summary["resumed_from_step"] == 4
    assert_same_weights(out, straight / "0")


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))  # creating the file is the "code execution"


def test_crafted_pickle_in_a_checkpoint_is_never_executed(tmp_path, data, straight):
    out = interrupted(tmp_path / "run", data)
    ckpt = out / CHECKPOINTS / "step-4"
    marker = tmp_path / "pwned"
    for name in ("custom_checkpoint_0.pkl", "optimizer.bin", "random_states_0.pkl", "scheduler.bin"):
        (ckpt / name).write_bytes(pickle.dumps(Payload(marker)))
    write_manifest(ckpt)  # even with a manifest that vouches for the files
    summary = run(out, data)
    assert not marker.exists()
    assert summary["resumed_from_step"] == 4
    assert_same_weights(out, straight / "0")


def test_corrupt_newest_checkpoint_falls_back_to_the_previous(tmp_path, data, straight, caplog):
    out = interrupted(tmp_path / "run", data, keep_checkpoints=2)
    bad = out / CHECKPOINTS / "step-4" / "model.safetensors"
    bad.write_bytes(bad.read_bytes()[:100])  # truncated
    with caplog.at_level(logging.WARNING):
        summary = run(out, data, keep_checkpoints=2)
    assert str(bad) in caplog.text and "corrupt" in caplog.text
    assert summary["resumed_from_step"] == 2
    assert_same_weights(out, straight / "0")
    (aside,) = (out / SET_ASIDE).iterdir()
    assert (aside / "step-4" / "model.safetensors").stat().st_size == 100  # kept, not deleted


def test_corrupt_only_checkpoint_starts_fresh_with_a_warning(tmp_path, data, straight, caplog):
    out = interrupted(tmp_path / "run", data)
    (out / CHECKPOINTS / "step-4" / MANIFEST).unlink()
    with caplog.at_level(logging.WARNING):
        summary = run(out, data)
    assert summary["resumed_from_step"] is None
    assert MANIFEST in caplog.text and "training starts fresh" in caplog.text
    assert_same_weights(out, straight / "0")


def test_torn_last_log_line_is_dropped_with_a_warning(tmp_path, data, caplog):
    out = interrupted(tmp_path / "run", data)
    with open(out / "train_log.jsonl", "a") as f:
        f.write('{"step": 5, "lo')
    with caplog.at_level(logging.WARNING):
        run(out, data)
    assert "train_log.jsonl:6: dropped a torn last line" in caplog.text
    steps = [json.loads(line)["step"] for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_malformed_log_line_before_the_end_names_the_line(tmp_path, data):
    out = interrupted(tmp_path / "run", data)
    log = out / "train_log.jsonl"
    lines = log.read_text().splitlines()
    lines[1] = "{oops"
    log.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"train_log.jsonl:2: malformed"):
        run(out, data)


def test_damaged_final_model_is_named_when_loaded(tmp_path, data):
    from polyalign.models import load_model
    from polyalign.models.runtime import load_for_inference
    from tests.models.micro import micro_settings

    out = tmp_path / "model"
    run(out, data, max_steps=1, checkpoint_every=0)
    (out / "train_summary.json").write_text("{}")
    weights = out / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:5])
    for load in (lambda p: load_model(p, micro_settings()), lambda p: load_for_inference(p, device="cpu")):
        with pytest.raises(
            RuntimeError, match=rf"{out}: cannot load the model .*delete .*train_summary\.json"
        ):
            load(out)


# --------------------------------------------------------------------------- issue 26: damaged
# checkpoints fall back with a warning naming the file; changed loss code sets checkpoints aside


def resumed(out, data, caplog, **cfg):
    with caplog.at_level(logging.WARNING):
        return run(out, data, **cfg)["resumed_from_step"]


def test_manifest_entry_without_bytes_falls_back(tmp_path, data, straight, caplog):
    out = interrupted(tmp_path / "run", data, keep_checkpoints=2)
    manifest = out / CHECKPOINTS / "step-4" / MANIFEST
    entries = json.loads(manifest.read_text())
    del entries["scheduler.json"]["bytes"]
    manifest.write_text(json.dumps(entries))
    assert resumed(out, data, caplog, keep_checkpoints=2) == 2
    assert f"{manifest}: the entry of scheduler.json lacks bytes" in caplog.text
    assert_same_weights(out, straight / "0")


def test_stray_step_latest_folder_is_ignored_with_a_warning(tmp_path, data, straight, caplog):
    out = interrupted(tmp_path / "run", data)
    stray = out / CHECKPOINTS / "step-latest"
    stray.mkdir()
    assert resumed(out, data, caplog) == 4
    assert f"{stray}: not a checkpoint folder" in caplog.text
    assert_same_weights(out, straight / "0")


def test_malformed_trainer_state_matching_its_manifest_falls_back(tmp_path, data, straight, caplog):
    out = interrupted(tmp_path / "run", data, keep_checkpoints=2)
    state = out / CHECKPOINTS / "step-4" / STATE_FILE
    state.write_text("{not json")
    write_manifest(state.parent)  # the manifest agrees: only reading it shows the damage
    assert resumed(out, data, caplog, keep_checkpoints=2) == 2
    assert f"{state}: unreadable" in caplog.text
    assert_same_weights(out, straight / "0")


def test_malformed_safetensors_header_matching_its_manifest_falls_back(tmp_path, data, straight, caplog):
    out = interrupted(tmp_path / "run", data, keep_checkpoints=2)
    tensors = out / CHECKPOINTS / "step-4" / "optimizer.safetensors"
    raw = bytearray(tensors.read_bytes())
    raw[8:12] = b"}}}}"  # the JSON header's first bytes
    tensors.write_bytes(bytes(raw))
    write_manifest(tensors.parent)
    assert resumed(out, data, caplog, keep_checkpoints=2) == 2
    assert f"{tensors}: unreadable safetensors header" in caplog.text
    assert_same_weights(out, straight / "0")


def test_training_log_row_without_step_is_dropped_with_a_warning(tmp_path, data, caplog):
    out = interrupted(tmp_path / "run", data)
    log_file = out / "train_log.jsonl"
    lines = log_file.read_text().splitlines()
    lines.insert(1, json.dumps({"loss": 1.0}))
    log_file.write_text("\n".join(lines) + "\n")
    assert resumed(out, data, caplog) == 4
    assert "train_log.jsonl:2: dropped a training-log row without a step" in caplog.text
    steps = [json.loads(line)["step"] for line in log_file.read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_changed_loss_code_sets_checkpoints_aside(tmp_path, data, caplog):
    """Class: resume after the loss function changed (it resumed from step 4, mixing objectives)."""
    tok, ex = data
    calls = []

    def interrupting_loss(model, batch):
        calls.append(1)
        if len(calls) > 5:
            raise Interrupted
        return lm_loss(model, batch)

    def doubled_loss(model, batch):
        loss, *rest = lm_loss(model, batch)
        return (2 * loss, *rest)

    def fit(loss_fn):
        return train(
            micro_model(tok),
            tok,
            ex,
            partial(collate, pad_id=tok.pad_token_id),
            loss_fn,
            TrainConfig(**CFG),
            tmp_path,
            progress=False,
        )

    with pytest.raises(Interrupted):
        fit(interrupting_loss)
    with caplog.at_level(logging.WARNING):
        summary = fit(doubled_loss)
    assert summary["resumed_from_step"] is None
    assert "another run" in caplog.text and "code.loss_fn" in caplog.text
    (aside,) = (tmp_path / SET_ASIDE).iterdir()
    assert "code.loss_fn" in (aside / "REASON.txt").read_text()


def test_library_code_digest_changes_with_the_loss_module(tmp_path, monkeypatch):
    """The library part is the workflow's source_digest of the trainer and the loss's module: it
    covers the module that computes the preference losses (a comment there changes nothing)."""
    import shutil

    from polyalign.provenance import SRC
    from polyalign.train import code_identity

    copy = tmp_path / "src"
    shutil.copytree(SRC / "polyalign", copy / "polyalign")
    from polyalign import provenance

    original = provenance.source_digest

    def digest(script, src=copy):
        return original(script, copy)

    monkeypatch.setattr(provenance, "source_digest", digest)
    code_identity.library_digest.cache_clear()
    before = code_identity.library_digest("polyalign.preference.train")
    losses = copy / "polyalign" / "train" / "losses.py"
    losses.write_text(losses.read_text() + "\n# a comment changes nothing\n")
    code_identity.library_digest.cache_clear()
    assert code_identity.library_digest("polyalign.preference.train") == before
    losses.write_text(losses.read_text() + "\nCHANGED = 1\n")
    code_identity.library_digest.cache_clear()
    assert code_identity.library_digest("polyalign.preference.train") != before
    code_identity.library_digest.cache_clear()
