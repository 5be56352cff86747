"""The `detectors:` config block: which detectors run, on which model pairs, and what that says
about independence from the compared systems. No torch: the workflow reads it at DAG time and the
report rules read its names.

Model names in the config are either a model of this run (`base`, `sft`, ... : the directory
results/models/<name>), one of the independent detector pair (`detector_base`, a second BaseLM
pre-trained with its own seed, and `detector_sft`, its SFT: ancestors of no compared system), or a
Hugging Face id / local path (paper profile).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..io import InputError
from ..systems import MODELS

# Binoculars' published thresholds (Falcon-7B observer / Falcon-7B-Instruct performer).
BINOCULARS_THRESHOLDS = {"low_fpr": 0.8536432310785527, "accuracy": 0.9015310749276843}

# Direction of each detector's score: True when a higher score means more AI-like.
HIGHER_IS_AI = {"fast_detectgpt": True, "binoculars": False, "trained": True}


@dataclass(frozen=True)
class ModelPair:
    """The two model keys of a detector: (scoring, sampling) for Fast-DetectGPT, (observer,
    performer) for Binoculars."""

    first: str
    second: str


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
