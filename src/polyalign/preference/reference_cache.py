"""Reference log-probs log π_ref(y⁺|x), log π_ref(y⁻|x), computed once per pair set (docs/method.md §7).

π_ref is the frozen starting checkpoint (SFT for DPO, Bucket-SFT for HDPO). One no-grad forward
per batch of K pairs in the trainer's layout (`collate_pairs` + `train.logprobs.pair_logps`, the
policy's own code path: one shared-prompt row per pair, or two rows), length-sorted batches,
under the autocast the trainer will use. The cache is a JSONL artifact, one row per pair:

    {"id", "ref_chosen", "ref_rejected", "chosen_tokens", "rejected_tokens", "token_hash"}

(summed log-probs as float32 values, response token counts, and the hash of the two token
sequences, which `attach_reference` checks against the trainer's own tokenisation).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from contextlib import nullcontext

import numpy as np
import torch

from ..config import schema_default
from ..io import InputError, read_jsonl, write_jsonl
from ..progress import progress_bar
from ..train.logprobs import pair_logps
from .examples import PairExample, collate_pairs

log = logging.getLogger(__name__)

CACHE_FIELDS = ("id", "ref_chosen", "ref_rejected", "chosen_tokens", "rejected_tokens", "token_hash")


def autocast_for(device: torch.device, mixed_precision: str):
    """The autocast context accelerate uses for `mixed_precision` (none for "no")."""
    if mixed_precision == "no":
        return nullcontext()
    dtype = torch.bfloat16 if mixed_precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


@torch.no_grad()
def compute_reference_logps(
    model,
    items: Sequence[PairExample],
    pad_id: int,
    batch_size: int = schema_default("preference", "ref_batch_size"),
    mixed_precision: str = schema_default("train_common", "mixed_precision"),
    progress: bool = False,
    shared_prompt: bool = schema_default("preference", "shared_prompt"),
) -> list[dict]:
    """Cache rows (see module docstring) for `items`, in input order."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    order = sorted(range(len(items)), key=lambda i: -items[i].row_length(shared_prompt))
    rows: list[dict | None] = [None] * len(items)
    try:
        for start in progress_bar(
            range(0, len(order), batch_size),
            total=math.ceil(len(order) / batch_size),
            desc="reference log-probs",
            enabled=progress,
            mininterval=5,
        ):
            idx = order[start : start + batch_size]
            batch = collate_pairs([items[i] for i in idx], pad_id, shared_prompt)
            with autocast_for(device, mixed_precision):
                lc, lr, nc, nr = pair_logps(model, {k: v.to(device) for k, v in batch.items()})
            lc, lr, nc, nr = lc.float().cpu(), lr.float().cpu(), nc.cpu(), nr.cpu()
            for j, i in enumerate(idx):
                rows[i] = {
                    "id": items[i].id,
                    "ref_chosen": float(lc[j]),
                    "ref_rejected": float(lr[j]),
                    "chosen_tokens": int(nc[j]),
                    "rejected_tokens": int(nr[j]),
                    "token_hash": items[i].token_hash(),
                }
    finally:
        model.train(was_training)
    bad = [r["id"] for r in rows if not (math.isfinite(r["ref_chosen"]) and math.isfinite(r["ref_rejected"]))]
    if bad:
        raise FloatingPointError(f"non-finite reference log-probs for pair(s) {bad[:10]}")
    return rows


def write_reference_cache(path, rows: Sequence[dict]) -> int:
    return write_jsonl(path, rows)


def read_reference_cache(path) -> dict[str, dict]:
    """Cache rows keyed by pair id; missing fields or duplicate ids raise InputError."""
    out = {}
    for i, row in enumerate(read_jsonl(path), 1):
        for f in CACHE_FIELDS:
            if f not in row:
                raise InputError(f"{path}: row {i}: missing field {f!r}")
        if row["id"] in out:
            raise InputError(f"{path}: row {i}: duplicate pair id {row['id']!r}")
        out[row["id"]] = row
    return out


def attach_reference(
    items: Sequence[PairExample], cache: dict[str, dict], where: str = "reference cache"
) -> None:
    """Set ref_chosen / ref_rejected of every item from `cache` (keyed by id). The cache must
    hold exactly these pairs, tokenised identically (same token hash)."""
    ids = {it.id for it in items}
    missing = [i for i in ids if i not in cache]
    extra = [i for i in cache if i not in ids]
    if missing or extra:
        raise InputError(
            f"{where}: does not match the pair set ({len(missing)} pair(s) missing, e.g. "
            f"{sorted(missing)[:3]}; {len(extra)} unknown, e.g. {sorted(extra)[:3]}): "
            "recompute it for these pairs"
        )
    for it in items:
        row = cache[it.id]
        if row["token_hash"] != it.token_hash():
            raise InputError(
                f"{where}: pair {it.id!r} was tokenised differently when the cache was "
                "computed (other tokenizer, prompt or max_length): recompute it"
            )
        it.ref_chosen, it.ref_rejected = float(row["ref_chosen"]), float(row["ref_rejected"])


def reference_summary(rows: Sequence[dict], seconds: float) -> dict:
    c = np.array([r["ref_chosen"] for r in rows])
    r_ = np.array([r["ref_rejected"] for r in rows])
    nc = np.array([r["chosen_tokens"] for r in rows])
    nr = np.array([r["rejected_tokens"] for r in rows])
    return {
        "pairs": len(rows),
        "seconds": seconds,
        "ref_chosen_mean": float(c.mean()),
        "ref_rejected_mean": float(r_.mean()),
        "ref_chosen_per_token": float((c / nc).mean()),
        "ref_rejected_per_token": float((r_ / nr).mean()),
        "chosen_tokens_mean": float(nc.mean()),
        "rejected_tokens_mean": float(nr.mean()),
        "share_ref_prefers_chosen": float((c > r_).mean()),
    }


def build_reference_cache(
    pairs: Sequence[dict], model_dir, config: dict, system: str, out_path, progress: bool = True
) -> dict:
    """Load the starting checkpoint `model_dir`, compute the cache of `pairs`, write it to
    `out_path`; returns a summary (counts, timings, mean log-probs)."""
    from ..models.runtime import load_model_for_inference
    from ..models.settings import model_settings
    from ..train.trainer import effective_mixed_precision
    from .config import preference_stage
    from .examples import tokenize_pairs

    t0 = time.perf_counter()
    stage = preference_stage(config, system)
    # float32 weights (+ the training stage's autocast): the cache must equal the policy's own
    # log-probs at step 0, and training holds fp32 master weights.
    model, tokenizer = load_model_for_inference(
        model_dir, model_settings(config.get("model")), dtype="float32"
    )
    max_length = pair_max_length(model, stage.model_max_length)
    items = tokenize_pairs(pairs, tokenizer, max_length)
    mixed = effective_mixed_precision(stage.train.mixed_precision)
    rows = compute_reference_logps(
        model,
        items,
        tokenizer.pad_token_id,
        stage.settings.ref_batch_size,
        mixed,
        progress,
        stage.settings.shared_prompt,
    )
    write_reference_cache(out_path, rows)
    summary = {
        "system": system,
        "model": str(model_dir),
        "max_length": max_length,
        "mixed_precision": mixed,
        **reference_summary(rows, time.perf_counter() - t0),
    }
    log.info("reference log-probs of %d pairs in %.1f s", len(rows), summary["seconds"])
    return summary


def pair_max_length(model, model_max_length: int) -> int:
    """Sequence budget of a pair side: the SFT rule (model.max_length, capped by the model)."""
    return min(model_max_length, model.config.max_position_embeddings)
