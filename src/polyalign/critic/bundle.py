"""The critic bundle directory and scoring.

    config.json        encoder path, dims, seed, training settings, metrics, versions
    buckets.json       {"buckets": [...]}: the bucket vocabulary (row i = embedding i)
    head.safetensors   head weights + input standardization

The directory is written next to its destination and renamed into place, so a failed save
never leaves a partial bundle.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..io import InputError, give_umask_mode, read_json, write_json
from ..text import normalize_text
from .head import CriticHead, inverse_transform, predict

FORMAT = "polyalign.critic.v1"
HEAD_FILE = "head.safetensors"


class UnknownBucketError(InputError):
    """Scoring rows whose bucket the critic was not trained with."""


def save_bundle(out_dir, head: CriticHead, config: dict, buckets: Sequence[str]) -> None:
    import safetensors.torch
    import transformers

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        state = {k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()}
        safetensors.torch.save_file(state, str(tmp / HEAD_FILE))
        full = {
            "format": FORMAT,
            **config,
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        }
        write_json(tmp / "config.json", full)
        write_json(tmp / "buckets.json", {"buckets": list(buckets)})
        give_umask_mode(tmp)  # mkdtemp's folder is private (0700)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class Critic:
    """A trained critic: c(y, b), lower = more human-like (≈ D_b(φ(y)))."""

    def __init__(self, head: CriticHead, buckets: list[str], config: dict, model, tokenizer):
        self.head, self.buckets, self.config = head, buckets, config
        self.model, self.tokenizer = model, tokenizer
        self._index = {b: i for i, b in enumerate(buckets)}

    @property
    def needs_prompts(self) -> bool:
        return self.config["training"]["conditioning"] == "prompt"

    def bucket_index(self, bucket_ids: Sequence[str]) -> np.ndarray:
        unknown: dict[str, int] = {}
        for b in bucket_ids:
            if b not in self._index:
                unknown[b] = unknown.get(b, 0) + 1
        if unknown:
            listed = ", ".join(f"{b!r} ({k} rows)" for b, k in sorted(unknown.items())[:10])
            raise UnknownBucketError(
                f"critic was not trained on bucket(s) {listed}; known: {len(self.buckets)} buckets"
            )
        return np.array([self._index[b] for b in bucket_ids], dtype=np.int64)

    def score_embeddings(self, embeddings: np.ndarray, bucket_ids: Sequence[str]) -> np.ndarray:
        raw = predict(self.head, np.asarray(embeddings, dtype=np.float32), self.bucket_index(bucket_ids))
        return inverse_transform(raw, self.config["training"]["target_transform"])

    def score(
        self,
        texts: Sequence[str],
        bucket_ids: Sequence[str],
        prompts: Sequence[str] | None = None,
        batch_size: int | None = None,
        progress: bool = False,
    ) -> np.ndarray:
        """float64 [n] critic scores. Texts are normalized as in training. `prompts` (rendered
        prompt strings) are required by, and only accepted by, a prompt-conditioned critic."""
        from .encoder import encode_responses

        if len(texts) != len(bucket_ids):
            raise InputError(f"{len(texts)} texts but {len(bucket_ids)} bucket ids")
        if self.needs_prompts and prompts is None:
            raise InputError("this critic is prompt-conditioned: pass the rendered prompts")
        if not self.needs_prompts and prompts is not None:
            raise InputError(
                "this critic scores responses alone (conditioning='response'); do not pass prompts"
            )
        self.bucket_index(bucket_ids)  # fail on unknown buckets before encoding anything
        training = self.config["training"]
        normalized = [normalize_text(t) if isinstance(t, str) else t for t in texts]
        embeddings = encode_responses(
            self.model,
            self.tokenizer,
            normalized,
            prompts,
            batch_size or training["encoder_batch_size"],
            training["max_length"],
            progress,
        )
        return self.score_embeddings(embeddings, bucket_ids)


def load_critic(bundle_dir, model=None, tokenizer=None, device: str | None = None) -> Critic:
    """Load a bundle; the frozen encoder comes from config.json's encoder_path unless a
    `model` and `tokenizer` are given."""
    import safetensors.torch

    bundle_dir = Path(bundle_dir)
    config = read_json(bundle_dir / "config.json")
    if config.get("format") != FORMAT:
        raise InputError(f"{bundle_dir}/config.json: not a critic bundle (format {FORMAT!r})")
    buckets = read_json(bundle_dir / "buckets.json")["buckets"]
    training = config["training"]
    head = CriticHead(
        config["hidden_size"],
        len(buckets),
        training["bucket_dim"],
        tuple(training["mlp_dims"]),
        training["dropout"],
    )
    head.load_state_dict(safetensors.torch.load_file(str(bundle_dir / HEAD_FILE)))
    head.eval()
    if model is None or tokenizer is None:
        from ..models.runtime import load_encoder

        model, tokenizer = load_encoder(config["encoder_path"], device=device)
    if model.config.hidden_size != config["hidden_size"]:
        raise InputError(
            f"encoder hidden size {model.config.hidden_size} != the critic's {config['hidden_size']}"
        )
    return Critic(head, buckets, config, model, tokenizer)
