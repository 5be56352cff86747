"""The `detectors:` config block and the end-to-end zero-shot scoring of response sets.

Model names in the config are either a model of this run (`base`, `sft`, ... : the directory
results/models/<name>), one of the independent detector pair (`detector_base`, a second BaseLM
pre-trained with its own seed, and `detector_sft`, its SFT: ancestors of no compared system), or a
Hugging Face id / local path (paper profile). Each detector has its
own pair of models and its own tokenizer; only the two models of one pair must share a
vocabulary. Pairs are loaded one at a time (through `models.runtime.load_for_inference`), score
every response, and are freed before the next pair loads; detectors with the same two models and
the same token budget share one pass (the embedded profile's BaseLM/SFT pair).
"""

from __future__ import annotations

import gc
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence

from ..features.lm_inputs import model_max_length, response_examples
from ..io import InputError
from ..prompts import prompt_settings, render_prompt
from ..systems import MODELS
from .zero_shot import ZERO_SHOT_DETECTORS, ModelPair, check_shared_vocabulary, zero_shot_scores

log = logging.getLogger("polyalign.detectors")

DETECTORS = ("fast_detectgpt", "binoculars", "trained")
DETECTOR_LABELS = {
    "fast_detectgpt": "Fast-DetectGPT",
    "binoculars": "Binoculars",
    "trained": "Trained (LR on φ)",
    "mean": "Mean of detectors",
}
# The independent detector pair, built once per run from the BaseLM's recipe with another seed
# (config detectors.independent_seed): it shares no weights with any compared system.
INDEPENDENT_MODELS = ("detector_base", "detector_sft")
# Model names that mean "this run's model" rather than a hub id or a path.
RUN_MODELS = (*MODELS, *INDEPENDENT_MODELS)


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


def _zero_shot_models(cfg: Mapping) -> set[str]:
    return {n for p in model_pairs(cfg).values() for n in (p.first, p.second)}


def _detector_models(cfg: Mapping) -> set[str]:
    """Every model a detector uses: the zero-shot pairs and the trained detector's sample models."""
    return _zero_shot_models(cfg) | set(cfg["trained"]["sample_models"])


def run_models_used(cfg: Mapping) -> list[str]:
    """This run's models that the zero-shot detectors need (the rule's model inputs)."""
    return sorted(n for n in _zero_shot_models(cfg) if n in RUN_MODELS)


def white_box(cfg: Mapping) -> bool:
    """True when every detector model is a model of this run (the embedded setting)."""
    pairs = model_pairs(cfg).values()
    return all(n in RUN_MODELS for p in pairs for n in (p.first, p.second))


def ancestor_models(cfg: Mapping) -> list[str]:
    """The detector models (zero-shot pairs and the trained detector's sample models) that are
    compared systems' own models or their ancestors: a detector built on them scores partly the
    distance from its own model (claim 5 confounded). Empty for the independent pair."""
    return sorted(n for n in _detector_models(cfg) if n in MODELS)


def independent_used(cfg: Mapping) -> list[str]:
    """The independent detector models the config uses (zero-shot or as trained-detector samples)."""
    names = _detector_models(cfg)
    return [n for n in INDEPENDENT_MODELS if n in names]


def scoring_passes(cfg: Mapping) -> list[tuple[tuple[str, ...], int | None, list[str]]]:
    """(model names, response token budget, detectors) of each pass: detectors that use the same
    two models with the same budget share one."""
    passes: dict[tuple, list[str]] = {}
    for name, pair in model_pairs(cfg).items():
        key = (tuple(sorted({pair.first, pair.second})), cfg[name]["max_tokens"])
        passes.setdefault(key, []).append(name)
    return [(names, budget, dets) for (names, budget), dets in passes.items()]


def load_pass_models(
    names: Sequence[str], detectors: Sequence[str], cfg: Mapping, paths: Mapping[str, str], loader=None
):
    """{name: model} and the pass's tokenizer; `paths` maps this run's model names to directories.
    The models must share a vocabulary (`PairVocabularyError` otherwise)."""
    if loader is None:
        from ..models.runtime import load_for_inference as loader
    models, tokenizers = {}, {}
    for name in names:
        if name in RUN_MODELS and name not in paths:
            raise InputError(f"detectors: model {name!r} of this run has no path (rule input missing)")
        path = paths[name] if name in RUN_MODELS else name
        # transformers' attention choice: sdpa where the architecture has it (Gemma-2 has not)
        models[name], tokenizers[name] = loader(
            path, device=cfg["device"], dtype=cfg["dtype"], attn_implementation=None
        )
    check_shared_vocabulary(tokenizers, detector="detectors " + " and ".join(detectors))
    return models, tokenizers[names[0]]


def _free(models: dict) -> None:
    models.clear()
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover
        pass


def score_items(
    items: Sequence[dict],
    records: Mapping[str, dict],
    cfg: Mapping,
    config: Mapping,
    paths: Mapping[str, str],
    loader: Callable | None = None,
) -> list[dict]:
    """Zero-shot scores of items {system, split, id, sample, text}: one row per item and detector
    {detector, system, split, id, sample, language, score, n_tokens} (+ p_ai for Fast-DetectGPT).
    An empty text gets score None. One pair of models is in memory at a time."""
    t0 = time.time()
    missing = [it["id"] for it in items if it["id"] not in records]
    if missing:
        raise InputError(f"detectors: {len(missing)} response(s) have no record (first id {missing[0]!r})")
    scorable = [k for k, it in enumerate(items) if isinstance(it["text"], str) and it["text"].strip()]
    scores: dict[str, dict] = {}
    for names, budget, detectors in scoring_passes(cfg):
        t1 = time.time()
        models, tokenizer = load_pass_models(names, detectors, cfg, paths, loader)
        pass_scores = _score_pass(items, scorable, records, models, tokenizer, budget, detectors, cfg, config)
        _free(models)
        for det in detectors:
            scores[det] = pass_scores
        log.info(
            "%s on %s: %d responses (%d empty), %d tokens in %.1f s",
            "/".join(detectors),
            "/".join(names),
            len(items),
            len(items) - len(scorable),
            int(pass_scores["n_tokens"].sum()),
            time.time() - t1,
        )
    log.info("zero-shot detectors: %d responses in %.1f s", len(items), time.time() - t0)
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
        for det in ZERO_SHOT_DETECTORS:
            ntok = int(scores[det]["n_tokens"][j]) if j is not None else 0
            value = float(scores[det][det][j]) if j is not None and ntok > 0 else None
            if value is not None and not math.isfinite(value):
                value = None  # no variance / no positions: unscorable, like an empty response
            row = {"detector": det, **base, "score": value, "n_tokens": ntok}
            if det == "fast_detectgpt":
                row["p_ai"] = float(scores[det]["fast_detectgpt_p_ai"][j]) if value is not None else None
            rows.append(row)
    return rows


def _score_pass(items, scorable, records, models, tokenizer, budget, detectors, cfg, config) -> dict:
    """`zero_shot_scores` of the scorable items under one pass's models and tokenizer."""
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
    examples = response_examples(
        tokenizer,
        [items[k]["text"] for k in scorable],
        prompts,
        model_max_length(first, cfg["max_length"]),
        max_response_tokens=budget,
    )
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    pairs = {det: model_pairs(cfg)[det] for det in detectors}
    return zero_shot_scores(models, pairs, examples, cfg["batch_size"], pad_id=pad)
