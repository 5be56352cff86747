"""End-to-end zero-shot scoring of response sets (the config block: `detectors.settings`).

Each detector has its own pair of models and its own tokenizer; only the two models of one pair
must share a vocabulary. Pairs are loaded one at a time (through
`models.runtime.load_for_inference`), score every response, and are freed before the next pair
loads; detectors with the same two models and the same token budget share one pass (the embedded
profile's BaseLM/SFT pair).
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
from .settings import RUN_MODELS, model_pairs, scoring_passes
from .zero_shot import ZERO_SHOT_DETECTORS, check_shared_vocabulary, zero_shot_scores

log = logging.getLogger("polyalign.detectors")


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
        # one rendering per record: a test prompt is shared by its human answer and every
        # system's answer (embedded seed job: 7,503 renderings, 3.3 s, became 1,839, 0.9 s)
        rendered: dict[str, str] = {}
        prompts = []
        for k in scorable:
            rid = items[k]["id"]
            if rid not in rendered:
                rendered[rid] = render_prompt(
                    records[rid],
                    tokenizer,
                    style="plain",
                    max_prompt_tokens=pcfg.max_prompt_tokens,
                    max_history_turns=pcfg.max_history_turns,
                )
            prompts.append(rendered[rid])
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
