"""Training checkpoints with no pickle in them, checked before they are trusted.

A checkpoint directory `step-N` holds

    model.safetensors                      the weights (safetensors)
    optimizer.safetensors, optimizer.json  the optimizer's tensors, and everything else as JSON
    scheduler.json                         the LR scheduler's state
    rng_state_{rank}.safetensors/.json     torch (CPU, CUDA), numpy and `random` generator states
    trainer_state.json                     step, elapsed time and the run identity
    MANIFEST.json                          sha256 and size of every file above, written last

Nothing here is ever unpickled: tensors come from safetensors, the rest from JSON, so a crafted
file in a checkpoint cannot run code. A checkpoint whose manifest is missing or does not match
its files is corrupt; `find_resumable` sets it aside (moved, never deleted) and tries the one
before; so is one whose manifest entry, trainer state or safetensors header cannot be read (each
named in a warning). Folders under `checkpoints/` not named `step-<number>` are ignored with a
warning. The run identity covers the training config, the data fingerprint, the starting
weights, the tokenizer and the code of the loss and update (`code_identity.py`): a checkpoint of any other run is set aside too, and training starts
fresh, so a rerun never continues from a state the current inputs would not have produced.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
import time
from pathlib import Path

import numpy as np
import safetensors.torch
import torch

from ..io import file_sha256, write_json

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
SET_ASIDE = "checkpoints.set-aside"
STATE_FILE = "trainer_state.json"
MANIFEST = "MANIFEST.json"
MODEL_FILE = "model.safetensors"
OPTIMIZER_TENSORS = "optimizer.safetensors"
OPTIMIZER_META = "optimizer.json"
SCHEDULER_FILE = "scheduler.json"


class CorruptCheckpoint(Exception):
    """A checkpoint whose files do not match its manifest; the message names the file."""


# --------------------------------------------------------------------------- identity


def state_dict_sha256(state_dict: dict) -> str:
    """Hash of a model's weights: every tensor's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        t = state_dict[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def tokenizer_sha256(tokenizer) -> str:
    """Hash of a tokenizer: its full serialisation when it has one (fast tokenizers), else its
    vocabulary, plus the special tokens and the chat template."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    body = backend.to_str() if backend is not None else json.dumps(sorted(tokenizer.get_vocab().items()))
    extra = {
        "special": getattr(tokenizer, "special_tokens_map", {}),
        "chat_template": getattr(tokenizer, "chat_template", None),
    }
    return hashlib.sha256((body + json.dumps(extra, sort_keys=True, default=str)).encode()).hexdigest()


def identity_diff(saved: dict, current: dict, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two run identities (for the log message)."""
    out = []
    for key in sorted(set(saved) | set(current)):
        a, b = saved.get(key), current.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += identity_diff(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}")
    return out


# --------------------------------------------------------------------------- manifest


def write_manifest(directory: Path) -> None:
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.name != MANIFEST)
    write_json(
        directory / MANIFEST, {p.name: {"bytes": p.stat().st_size, "sha256": file_sha256(p)} for p in files}
    )


def verify(directory: Path) -> None:
    """Raise CorruptCheckpoint naming the first file that is missing or differs from the manifest."""
    manifest = directory / MANIFEST
    if not manifest.is_file():
        raise CorruptCheckpoint(
            f"{manifest}: missing (an older checkpoint format, or not written completely)"
        )
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CorruptCheckpoint(f"{manifest}: unreadable ({e})") from None
    for name in (STATE_FILE, MODEL_FILE, OPTIMIZER_TENSORS, OPTIMIZER_META, SCHEDULER_FILE):
        if name not in entries:
            raise CorruptCheckpoint(f"{manifest}: does not list {name}")
    if not isinstance(entries, dict):
        raise CorruptCheckpoint(f"{manifest}: not a mapping of file names")
    for name, entry in sorted(entries.items()):
        path = directory / name
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("bytes"), int)
            and isinstance(entry.get("sha256"), str)
        ):
            raise CorruptCheckpoint(f"{manifest}: the entry of {name} lacks bytes or sha256 ({entry!r})")
        if not path.is_file():
            raise CorruptCheckpoint(f"{path}: listed in the manifest but missing")
        if path.stat().st_size != entry["bytes"]:
            raise CorruptCheckpoint(
                f"{path}: {path.stat().st_size} bytes, the manifest says {entry['bytes']}"
            )
        if file_sha256(path) != entry["sha256"]:
            raise CorruptCheckpoint(f"{path}: contents differ from the manifest (sha256)")


# --------------------------------------------------------------------------- states as files


def save_optimizer(optimizer, directory: Path) -> None:
    sd = optimizer.state_dict()
    tensors, meta_state = {}, {}
    for pid, entry in sd["state"].items():
        meta_state[str(pid)] = {}
        for name, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"{pid}.{name}"] = value.detach().cpu().contiguous()
            else:
                meta_state[str(pid)][name] = value
    for group in sd["param_groups"]:
        bad = [k for k, v in group.items() if torch.is_tensor(v)]
        if bad:
            raise TypeError(f"optimizer param group holds tensors {bad}: not checkpointable as JSON")
    safetensors.torch.save_file(tensors, str(directory / OPTIMIZER_TENSORS))
    write_json(directory / OPTIMIZER_META, {"state": meta_state, "param_groups": sd["param_groups"]})


def load_optimizer(optimizer, directory: Path) -> None:
    meta = json.loads((directory / OPTIMIZER_META).read_text(encoding="utf-8"))
    state = {int(pid): dict(entry) for pid, entry in meta["state"].items()}
    for key, tensor in safetensors.torch.load_file(str(directory / OPTIMIZER_TENSORS)).items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = tensor
    groups = [{k: tuple(v) if k == "betas" else v for k, v in g.items()} for g in meta["param_groups"]]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def save_rng(directory: Path, rank: int) -> None:
    tensors = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda.{i}"] = s
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, mt, gauss_next = random.getstate()
    safetensors.torch.save_file(tensors, str(directory / f"rng_state_{rank}.safetensors"))
    write_json(
        directory / f"rng_state_{rank}.json",
        {
            "numpy": [kind, [int(k) for k in keys], int(pos), int(has_gauss), float(gauss)],
            "python": [version, list(mt), gauss_next],
        },
    )


def load_rng(directory: Path, rank: int) -> None:
    tensors_path, meta_path = (
        directory / f"rng_state_{rank}.safetensors",
        directory / f"rng_state_{rank}.json",
    )
    if not tensors_path.is_file():
        log.warning(
            "%s: no RNG state for process %d; its generators keep their seeded state", directory, rank
        )
        return
    tensors = safetensors.torch.load_file(str(tensors_path))
    torch.set_rng_state(tensors["torch"])
    cuda = [
        tensors[k] for k in sorted((k for k in tensors if k.startswith("cuda.")), key=lambda k: int(k[5:]))
    ]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda[: torch.cuda.device_count()])
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    kind, keys, pos, has_gauss, gauss = meta["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss))
    version, mt, gauss_next = meta["python"]
    random.setstate((version, tuple(mt), gauss_next))


def save_checkpoint(
    accelerator, model, optimizer, scheduler, root: Path, step: int, trainer_state: dict, keep: int
) -> Path:
    """Write checkpoint `step` into a hidden temp dir (manifest last) and rename it into place;
    then drop all but the newest `keep`."""
    tmp, final = root / f".step-{step}.tmp", root / f"step-{step}"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    save_rng(tmp, accelerator.process_index)
    if accelerator.is_main_process:
        safetensors.torch.save_model(accelerator.unwrap_model(model), str(tmp / MODEL_FILE))
        save_optimizer(optimizer, tmp)
        write_json(tmp / SCHEDULER_FILE, scheduler.state_dict())
        write_json(tmp / STATE_FILE, {"step": step, **trainer_state})
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        write_manifest(tmp)
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        done = [p for p in step_dirs(root) if p != final]
        for old in done[: max(0, len(done) - (keep - 1))]:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()
    return final


def load_checkpoint(accelerator, model, optimizer, scheduler, directory: Path) -> dict:
    """Restore a verified checkpoint into the prepared model/optimizer/scheduler; returns its
    trainer state."""
    # Under a multi-process CPU group accelerate's device is "cpu:0", which safetensors rejects
    device = accelerator.device
    safetensors.torch.load_model(
        accelerator.unwrap_model(model),
        str(directory / MODEL_FILE),
        device="cpu" if device.type == "cpu" else str(device),
    )
    load_optimizer(optimizer, directory)
    scheduler.load_state_dict(json.loads((directory / SCHEDULER_FILE).read_text(encoding="utf-8")))
    load_rng(directory, accelerator.process_index)
    return json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- choosing where to resume


def _step_of(path: Path) -> int:
    return int(path.name.split("-")[1])


def step_dirs(root: Path) -> list[Path]:
    """The `step-<number>` checkpoint folders under `root`, oldest first; anything else named
    step-* (a stray `step-latest`) is left where it is, with a warning naming it."""
    out = []
    for path in root.glob("step-*"):
        if path.is_dir() and path.name[5:].isdigit():
            out.append(path)
        else:
            log.warning("%s: not a checkpoint folder (step-<number>); ignored", path)
    return sorted(out, key=_step_of)


def read_state(directory: Path) -> dict:
    """The trainer state of a verified checkpoint, its safetensors headers read too; a file that
    matches its manifest and still cannot be read raises CorruptCheckpoint naming it."""
    path = directory / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CorruptCheckpoint(f"{path}: unreadable ({e})") from None
    if not isinstance(state, dict) or not isinstance(state.get("step"), int):
        raise CorruptCheckpoint(f"{path}: no integer step in the trainer state")
    for tensors in sorted(directory.glob("*.safetensors")):
        try:
            with safetensors.safe_open(str(tensors), framework="pt") as f:
                f.keys()
        except Exception as e:  # safetensors raises its own error types for a bad header
            raise CorruptCheckpoint(f"{tensors}: unreadable safetensors header ({e})") from None
    return state


def set_aside(paths: list[Path], out: Path, reason: str) -> Path:
    """Move `paths` (checkpoints, an old log) into a new folder under `out/checkpoints.set-aside/`
    with a REASON.txt, and log where they went."""
    dest = out / SET_ASIDE / time.strftime("%Y%m%dT%H%M%S")
    n = 1
    while dest.exists():
        n += 1
        dest = dest.with_name(f"{dest.name.split('.')[0]}.{n}")
    dest.mkdir(parents=True)
    (dest / "REASON.txt").write_text(reason + "\n", encoding="utf-8")
    for p in paths:
        shutil.move(str(p), str(dest / p.name))
    log.warning("set aside %s into %s: %s", ", ".join(p.name for p in paths), dest, reason)
    return dest


def find_resumable(out: Path, run_id: dict, log_file: Path) -> Path | None:
    """The newest checkpoint under `out/checkpoints` that verifies and belongs to `run_id`.

    Corrupt checkpoints are set aside one by one (falling back to the one before); a verified
    checkpoint of another run sets aside every checkpoint and the training log (fresh start).
    Only the main process may call this."""
    root = out / CHECKPOINTS
    if not root.is_dir():
        return None
    for ckpt in reversed(step_dirs(root)):
        try:
            verify(ckpt)
            state = read_state(ckpt)
        except CorruptCheckpoint as e:
            set_aside([ckpt], out, f"corrupt checkpoint: {e}")
            continue
        saved = state.get("run", {})
        if saved != json.loads(json.dumps(run_id)):
            changed = identity_diff(saved, json.loads(json.dumps(run_id)))
            stale = step_dirs(root) + ([log_file] if log_file.exists() else [])
            set_aside(
                stale,
                out,
                f"{ckpt} was written by another run (changed: {', '.join(changed)}); training starts fresh",
            )
            return None
        return ckpt
    log.warning("%s: no usable checkpoint left; training starts fresh", root)
    return None
