"""Supervised stages: base pretraining (BaseLM), pooled SFT and Bucket-Aware SFT (docs/method.md §4).

- `pretrain_base`: `model.source: scratch` → a fresh LLaMA-style model trained as a causal LM
  (loss on every token) on the train split rendered as chat dialogues and, when given, the
  pre-training text packed into full-length blocks (`pretrain_corpus`). A hub source is copied
  as is (it already is a base model).
- `train_sft(system="sft")`: plain prompts, loss on response tokens, every weight 1.
- `train_sft(system="bucket_sft")`: profile prompts (plain ones with `bucket_sft.profile_prompts:
  false`, an ablation variant); weights w_i ∝ n_b^(−τ) (mean 1, optional
  cap; a bucket under min_bucket_size weighs as its parent (language, track, family)) in `weighted_sft_loss`, normalised by the batch size, never by Σw; or, with
  `sampler: weighted_sampler`, examples drawn with p_i ∝ w_i and unit weights.

Both SFT systems share the loss function (per-example token-mean NLL averaged over the batch),
so Bucket-SFT with τ = 0 is exactly SFT with profile prompts.
"""

from __future__ import annotations

import os
import platform
import time
from collections import Counter
from functools import partial
from pathlib import Path

import numpy as np
import torch
import transformers

from ..config import block_defaults, schema_default
from ..io import read_jsonl, write_json
from ..models import build_model, count_parameters, load_tokenizer, model_settings
from ..models.runtime import copy_checkpoint, load_for_training
from ..prompts import PROFILE_LENGTH_MODES, prompt_settings
from .data import build_examples, collate, examples_fingerprint
from .launch import SUMMARY_FILE
from .logprobs import response_logps
from .losses import mean_from_sums, weighted_example_mean
from .pretrain_corpus import packed_examples
from .settings import TrainConfig
from .trainer import train
from .weights import backoff_units, bucket_weights, loss_mass_shares


def is_main_process() -> bool:
    """Rank 0 of an `accelerate launch` (or the only process): the one that writes summaries."""
    return int(os.environ.get("RANK", "0")) == 0


# A stage's train config is train_common, then the stage's block on top (defaults of both from
# the config schema); bucket_sft inherits sft's block so both SFT systems train alike.
BUCKET_KEYS = ("tau", "cap", "sampler", "backoff", "profile_prompts")
# Bucket-SFT back-off (docs/method.md §4): a bucket under the top-level min_bucket_size weighs as its
# parent (language, track, family), then its language (under another bucket key: backoff_levels).
BACKOFF_LEVELS = (("language", "track", "family"), ("language",))
_BUCKET_KEY = schema_default("bucket_key")
SAMPLERS = ("weighted_loss", "weighted_sampler")


def stage_train_config(config: dict, stage: str) -> TrainConfig:
    """TrainConfig of `stage` (pretrain | sft | bucket_sft) from the config (missing keys: schema defaults)."""
    merged = {}
    chain = ["train_common", "pretrain"] if stage == "pretrain" else ["train_common", "sft"]
    if stage == "bucket_sft":
        chain.append("bucket_sft")
    # literal block names: the rerun digest holds the defaults a stage reads (polyalign.provenance)
    defaults = {
        "train_common": block_defaults("train_common"),
        "pretrain": block_defaults("pretrain"),
        "sft": block_defaults("sft"),
        "bucket_sft": block_defaults("bucket_sft"),
    }
    for block in chain:
        merged.update(defaults[block])
        merged.update(config.get(block) or {})
    for k in BUCKET_KEYS:
        merged.pop(k, None)
    return TrainConfig.from_dict(merged)


def bucket_config(config: dict) -> dict:
    block = {**block_defaults("bucket_sft"), **(config.get("bucket_sft") or {})}
    cfg = {k: block[k] for k in BUCKET_KEYS}
    if cfg["sampler"] not in SAMPLERS:
        raise ValueError(f"bucket_sft.sampler must be one of {SAMPLERS}, got {cfg['sampler']!r}")
    for key in ("backoff", "profile_prompts"):
        if not isinstance(cfg[key], bool):
            raise ValueError(f"bucket_sft.{key} must be true or false, got {cfg[key]!r}")
    cfg["min_bucket_size"] = int(config.get("min_bucket_size", schema_default("min_bucket_size")))
    return cfg


def backoff_levels(bucket_key) -> list[tuple[str, ...]]:
    """The ancestors a small bucket of `bucket_key` backs off to: each of BACKOFF_LEVELS with the
    fields the key has, when coarser than the key (BACKOFF_LEVELS itself for the default key)."""
    levels = (tuple(f for f in level if f in bucket_key) for level in BACKOFF_LEVELS)
    return list(dict.fromkeys(lv for lv in levels if lv and set(lv) != set(bucket_key)))


def bucket_sft_weights(records: list[dict], bcfg: dict, bucket_key=_BUCKET_KEY) -> tuple[np.ndarray, dict]:
    """Bucket-SFT example weights (with back-off of small buckets when `bcfg["backoff"]`) and
    the report of where the loss mass goes: per bucket (size, unit, weight), per language and per
    bucket-size class. The records' bucket ids are those of `bucket_key`."""
    buckets = [r["bucket_id"] for r in records]
    parents = (
        [tuple("|".join(r[f] for f in level) for level in backoff_levels(bucket_key)) for r in records]
        if bcfg["backoff"]
        else None
    )
    min_size = bcfg["min_bucket_size"]
    w = bucket_weights(buckets, tau=bcfg["tau"], cap=bcfg["cap"], parent_ids=parents, min_size=min_size)
    units, _ = backoff_units(buckets, parents, min_size)
    counts = Counter(buckets)
    per_bucket = {}
    for b, u, wi in zip(buckets, units, w):
        per_bucket.setdefault(
            b, {"n": counts[b], "weight": float(wi), "unit": b if u == b else f"backoff:{u[1]}"}
        )
    report = {
        "min_bucket_size": min_size,
        "backoff": bcfg["backoff"],
        "buckets_backed_off": sum(v["unit"] != b for b, v in per_bucket.items()),
        "loss_mass": loss_mass_shares(w, [r["language"] for r in records], buckets, min_size),
    }
    return w, {"bucket_weights": dict(sorted(per_bucket.items())), "weighting": report}


def lm_loss(model, batch):
    """Token-mean NLL over every labelled token of the micro-batch (base pretraining)."""
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
    return out.loss, {}


def sft_loss(model, batch):
    """Bucket-SFT loss (plain SFT: unit weights). The vocabulary projection, most of a small
    model's compute, runs only at the positions that predict a response token
    (`logprobs.response_logps`): in a batch, prompts, padding and the other rows' longer
    responses would otherwise be 2.5 times as many rows (embedded train split)."""
    logps, n_tokens = response_logps(
        model, batch["input_ids"], batch["attention_mask"], batch["labels"], return_n_tokens=True
    )
    loss = weighted_example_mean(mean_from_sums(-logps, n_tokens), batch["weights"])
    return loss, {"weight_mean": batch["weights"].mean().item()}


def pretrain_base(
    train_records: list[dict],
    tokenizer_dir,
    config: dict,
    out_dir,
    progress: bool = True,
    pretrain_documents: list[dict] | None = None,
) -> dict:
    """BaseLM into `out_dir` (save_pretrained). Scratch: train (on the train split and the
    pre-training documents, if any); hub source: copy."""
    mcfg = model_settings(config.get("model"))
    t0 = time.perf_counter()
    if mcfg.source != "scratch":
        if is_main_process():
            copy_checkpoint(mcfg.source, out_dir, mcfg)
        summary = {"stage": "pretrain", "source": mcfg.source, "trained": False}
    else:
        tokenizer = load_tokenizer(tokenizer_dir, mcfg.trust_remote_code)
        model = build_model(mcfg, tokenizer)
        pcfg = prompt_settings(config)
        examples = build_examples(
            train_records,
            tokenizer,
            "plain",
            max_length=mcfg.max_length,
            max_prompt_tokens=pcfg.max_prompt_tokens,
            max_history_turns=pcfg.max_history_turns,
            loss_on_prompt=True,
        )
        packed = packed_examples(pretrain_documents or [], tokenizer, mcfg.max_length)
        examples += packed
        tcfg = stage_train_config(config, "pretrain")
        result = train(
            model,
            tokenizer,
            examples,
            partial(collate, pad_id=tokenizer.pad_token_id),
            lm_loss,
            tcfg,
            out_dir,
            lengths=[len(e.input_ids) for e in examples],
            fingerprint=examples_fingerprint(examples),
            progress=progress,
        )
        summary = {
            "stage": "pretrain",
            "source": "scratch",
            "trained": True,
            "parameters": count_parameters(model),
            "tokens": sum(len(e.input_ids) for e in examples),
            "pretrain_text": {
                "documents": len(pretrain_documents or []),
                "blocks": len(packed),
                "tokens": sum(len(e.input_ids) for e in packed),
            },
            "train": result,
            "train_config": vars(tcfg),
        }
    summary["seconds"] = time.perf_counter() - t0
    _write_summary(out_dir, summary)
    return summary


def train_sft(
    train_records: list[dict], base_dir, config: dict, out_dir, system: str = "sft", progress: bool = True
) -> dict:
    """SFT (`system="sft"`) or Bucket-Aware SFT (`system="bucket_sft"`) from the model in
    `base_dir`, saved into `out_dir`."""
    if system not in ("sft", "bucket_sft"):
        raise ValueError(f"train_sft: system must be sft or bucket_sft, got {system!r}")
    t0 = time.perf_counter()
    mcfg = model_settings(config.get("model"))
    model, tokenizer = load_for_training(base_dir, mcfg)
    pcfg = prompt_settings(config)
    profile_length = config.get("profile_length", schema_default("profile_length"))
    if profile_length not in PROFILE_LENGTH_MODES:
        raise ValueError(f"profile_length must be one of {PROFILE_LENGTH_MODES}, got {profile_length!r}")
    tcfg = stage_train_config(config, system)
    max_length = min(mcfg.max_length, model.config.max_position_embeddings)

    summary = {"stage": system, "base": str(base_dir), "examples": len(train_records)}
    weights = sample_weights = None
    style = "plain"
    if system == "bucket_sft":
        bcfg = bucket_config(config)
        key = config.get("bucket_key", _BUCKET_KEY)
        w, weight_report = bucket_sft_weights(train_records, bcfg, key)
        if bcfg["sampler"] == "weighted_loss":
            weights = w
        else:
            sample_weights = w
        summary["bucket_sft"] = bcfg
        summary.update(weight_report)
        style = "profile" if bcfg["profile_prompts"] else "plain"
    examples = build_examples(
        train_records,
        tokenizer,
        style,
        max_length=max_length,
        max_prompt_tokens=pcfg.max_prompt_tokens,
        max_history_turns=pcfg.max_history_turns,
        profile_length=profile_length,
        weights=weights,
    )
    result = train(
        model,
        tokenizer,
        examples,
        partial(collate, pad_id=tokenizer.pad_token_id, padding_side="left"),
        sft_loss,
        tcfg,
        out_dir,
        lengths=[len(e.input_ids) for e in examples],
        sample_weights=sample_weights,
        fingerprint=examples_fingerprint(examples),
        progress=progress,
    )
    summary.update(
        {
            "train": result,
            "train_config": vars(tcfg),
            "style": style,
            "profile_length": profile_length,
            "tokens": sum(len(e.input_ids) for e in examples),
            "seconds": time.perf_counter() - t0,
        }
    )
    _write_summary(out_dir, summary)
    return summary


def _write_summary(out_dir, summary: dict) -> None:
    if not is_main_process():
        return
    summary["versions"] = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
    }
    write_json(Path(out_dir) / SUMMARY_FILE, summary)


def pretrain_job(job: dict) -> dict:
    """`pretrain_base` of a training job (polyalign.train.launch): inputs train, tokenizer and,
    optionally, pretrain_text."""
    inputs = job["inputs"]
    documents = read_jsonl(inputs["pretrain_text"]) if inputs.get("pretrain_text") else None
    return pretrain_base(
        read_jsonl(inputs["train"]),
        inputs["tokenizer"],
        job["config"],
        job["out_dir"],
        pretrain_documents=documents,
    )


def sft_job(job: dict) -> dict:
    """`train_sft` of a training job (stage sft | bucket_sft): inputs train, model."""
    inputs = job["inputs"]
    return train_sft(
        read_jsonl(inputs["train"]), inputs["model"], job["config"], job["out_dir"], job["stage"]
    )
