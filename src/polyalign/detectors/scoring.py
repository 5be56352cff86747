"""The `detectors:` config block and the end-to-end zero-shot scoring of response sets.

Model names in the config are either a model of this run (`base`, `sft`, ... : the directory
results/models/<name>) or a Hugging Face id / local path (paper profile). Every distinct model is
loaded once through `models.runtime.load_for_inference`; the pairs must share a tokenizer.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence

from ..features.lm_inputs import build_examples, model_max_length
from ..io import InputError
from ..prompts import prompt_settings, render_prompt
from ..systems import MODELS
from .zero_shot import ModelPair, check_shared_vocabulary, zero_shot_scores

log = logging.getLogger("polyalign.detectors")

DETECTORS = ("fast_detectgpt", "binoculars", "trained")
DETECTOR_LABELS = {
    "fast_detectgpt": "Fast-DetectGPT",
    "binoculars": "Binoculars",
    "trained": "Trained (LR on φ)",
    "mean": "Mean of detectors",
}
# Model names that mean "this run's model" rather than a hub id or a path.
RUN_MODELS = MODELS


def detector_config(config: Mapping) -> dict:
    """The `detectors:` block with the schema's defaults filled in (nested blocks key by key)."""
    from ..config import block_defaults

    cfg = block_defaults("detectors")
    given = dict(config.get("detectors") or {})
    unknown = set(given) - set(cfg)
    if unknown:
        raise InputError(f"detectors: unknown key(s) {sorted(unknown)} (known: {sorted(cfg)})")
    for key, value in given.items():
        cfg[key] = {**cfg[key], **value} if isinstance(cfg[key], dict) else value
    return cfg


def model_pairs(cfg: Mapping) -> dict[str, ModelPair]:
    return {
        "fast_detectgpt": ModelPair(
            cfg["fast_detectgpt"]["scoring_model"], cfg["fast_detectgpt"]["sampling_model"]
        ),
        "binoculars": ModelPair(cfg["binoculars"]["observer"], cfg["binoculars"]["performer"]),
    }


def run_models_used(cfg: Mapping) -> list[str]:
    """This run's models that the zero-shot detectors need (the rule's model inputs)."""
    names = {n for p in model_pairs(cfg).values() for n in (p.first, p.second)}
    return sorted(n for n in names if n in RUN_MODELS)


def white_box(cfg: Mapping) -> bool:
    """True when every detector model is a model of this run (the embedded setting)."""
    pairs = model_pairs(cfg).values()
    return all(n in RUN_MODELS for p in pairs for n in (p.first, p.second))


def load_detector_models(cfg: Mapping, paths: Mapping[str, str]):
    """{name: model} and the shared tokenizer; `paths` maps this run's model names to directories."""
    from ..models.runtime import load_for_inference

    names = sorted({n for p in model_pairs(cfg).values() for n in (p.first, p.second)})
    models, tokenizers = {}, {}
    for name in names:
        path = paths.get(name, name) if name in RUN_MODELS else name
        if name in RUN_MODELS and name not in paths:
            raise InputError(f"detectors: model {name!r} of this run has no path (rule input missing)")
        models[name], tokenizers[name] = load_for_inference(path, device=cfg["device"], dtype=cfg["dtype"])
    check_shared_vocabulary(tokenizers)
    return models, tokenizers[names[0]]


def score_items(
    items: Sequence[dict], records: Mapping[str, dict], models, tokenizer, cfg: Mapping, config: Mapping
) -> list[dict]:
    """Zero-shot scores of items {system, split, id, sample, text}: one row per item and detector
    {detector, system, split, id, sample, language, score, n_tokens} (+ p_ai for Fast-DetectGPT).
    An empty text gets score None."""
    t0 = time.time()
    missing = [it["id"] for it in items if it["id"] not in records]
    if missing:
        raise InputError(f"detectors: {len(missing)} response(s) have no record (first id {missing[0]!r})")
    scorable = [k for k, it in enumerate(items) if isinstance(it["text"], str) and it["text"].strip()]
    prompts = None
    if cfg["condition_on_prompt"]:
        pcfg = prompt_settings(config)
        prompts = [
            render_prompt(
                records[items[k]["id"]],
                tokenizer,
                style="plain",
                max_prompt_tokens=pcfg.max_prompt_tokens,
                max_history_turns=pcfg.max_history_turns,
            )
            for k in scorable
        ]
    first = next(iter(models.values()))
    examples = build_examples(
        tokenizer, [items[k]["text"] for k in scorable], prompts, model_max_length(first, cfg["max_length"])
    )
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    scores = zero_shot_scores(models, model_pairs(cfg), examples, cfg["batch_size"], pad_id=pad)
    log.info(
        "zero-shot detectors: %d responses (%d empty), %d tokens in %.1f s",
        len(items),
        len(items) - len(scorable),
        int(scores["n_tokens"].sum()),
        time.time() - t0,
    )
    rows = []
    position = {k: j for j, k in enumerate(scorable)}
    for k, it in enumerate(items):
        base = {
            "system": it["system"],
            "split": it["split"],
            "id": it["id"],
            "sample": it.get("sample", 0),
            "language": records[it["id"]]["language"],
        }
        j = position.get(k)
        ntok = int(scores["n_tokens"][j]) if j is not None else 0
        for det in ("fast_detectgpt", "binoculars"):
            value = float(scores[det][j]) if j is not None and ntok > 0 else None
            if value is not None and not math.isfinite(value):
                value = None  # no variance / no positions: unscorable, like an empty response
            row = {"detector": det, **base, "score": value, "n_tokens": ntok}
            if det == "fast_detectgpt":
                row["p_ai"] = float(scores["fast_detectgpt_p_ai"][j]) if value is not None else None
            rows.append(row)
    return rows
