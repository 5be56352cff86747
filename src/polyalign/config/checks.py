"""Cross-field checks of a schema-valid config, run at DAG time (before any job).

The schema holds every per-key constraint (types, enums, numeric bounds, closed blocks). What a
single key cannot say lives here: orderings, sums, divisibility, the corpus registry and the
file system. Each check returns messages of the form "<key>: <constraint broken> (got ...)".
"""

from __future__ import annotations

import importlib
import math
import os
import re

from ..methods import BLOCKS as METHOD_BLOCKS
from .schema import ConfigError

# Corpora the embedded fetch rule (fetch_embedded_corpus) writes; their paths exist only after it.
EMBEDDED_CORPORA = ("chatterbot", "chitchat")
# A Hugging Face dataset id (owner/name); anything else given as `path` must exist locally.
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
LOCAL_PREFIXES = ("/", ".", "~", "data/", "results/")


def check_length_thresholds(config: dict) -> list[str]:
    t = config.get("length_thresholds") or []
    if any(b <= a for a, b in zip(t, t[1:])):
        return [f"length_thresholds: must be strictly increasing (short <= t0 < medium <= t1 < ...), got {t}"]
    return []


def check_split_weights(config: dict) -> list[str]:
    out = []
    for key, source in (config.get("corpora") or {}).items():
        weights = source.get("split_weights")
        if weights is None:
            continue
        total = sum(weights.values())
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            out.append(f"corpora.{key}.split_weights: must sum to 1, got {total:g} ({weights})")
    return out


def check_model_shape(config: dict) -> list[str]:
    model = config.get("model") or {}
    if model.get("source") != "scratch":
        return []
    out = []
    hidden, heads, kv = model.get("hidden_size"), model.get("num_heads"), model.get("num_kv_heads")
    if hidden and heads and hidden % heads:
        out.append(
            f"model.num_heads: must divide model.hidden_size, got {heads} heads for hidden size {hidden}"
        )
    if kv is not None and heads and heads % kv:
        out.append(f"model.num_kv_heads: must divide model.num_heads, got {kv} for {heads} heads")
    return out


def known_corpora() -> set[str]:
    """Keys of the corpus registry (importing the loader modules registers them)."""
    from ..data import registry

    for module in registry._LOADER_MODULES:
        importlib.import_module(module)
    return set(registry.REGISTRY)


def check_corpus_keys(config: dict) -> list[str]:
    known = known_corpora()
    return [
        f"corpora.{key}: unknown corpus (registry keys: {', '.join(sorted(known))})"
        for key in (config.get("corpora") or {})
        if key not in known
    ]


def check_corpus_paths(config: dict) -> list[str]:
    """A given path exists, or has the shape of a hub id (owner/name, not under data/ etc.).
    Embedded corpora are exempt while the fetch rule writes them."""
    fetched = (config.get("fetch") or {}).get("embedded", False)
    out = []
    for key, source in (config.get("corpora") or {}).items():
        path = source.get("path")
        if path is None or (fetched and key in EMBEDDED_CORPORA) or os.path.exists(path):
            continue
        if HUB_ID.match(path) and not path.startswith(LOCAL_PREFIXES):
            continue
        out.append(f"corpora.{key}.path: {path!r} does not exist (and is not a hub id owner/name)")
    return out


def check_pair_weight_clip(config: dict) -> list[str]:
    out = []
    for block in ("preference", *METHOD_BLOCKS):
        weights = (config.get(block) or {}).get("pair_weights") or {}
        low, high = weights.get("w_min"), weights.get("w_max")
        if low is not None and high is not None and low > high:
            out.append(f"{block}.pair_weights.w_min: must be <= w_max, got {low} > {high}")
    return out


def check_run_seeds(config: dict) -> list[str]:
    from ..seeds import check_no_stage_seeds

    return check_no_stage_seeds(config)


def check_generation_fits(config: dict) -> list[str]:
    """A scratch model's positions hold the longest generation: prompt budget + CoT's budget."""
    model, prompt, gen = (config.get(k) or {} for k in ("model", "prompt", "generation"))
    if model.get("source") != "scratch" or None in (
        model.get("max_length"),
        prompt.get("max_prompt_tokens"),
        gen.get("max_new_tokens"),
    ):
        return []
    need = prompt["max_prompt_tokens"] + gen["max_new_tokens"] + (gen.get("cot_extra_tokens") or 0)
    if model["max_length"] < need:
        return [
            f"model.max_length: must hold prompt.max_prompt_tokens + generation.max_new_tokens + "
            f"generation.cot_extra_tokens = {need}, got {model['max_length']}"
        ]
    return []


CHECKS = (
    check_length_thresholds,
    check_split_weights,
    check_model_shape,
    check_corpus_keys,
    check_corpus_paths,
    check_pair_weight_clip,
    check_generation_fits,
    check_run_seeds,
)


def check_config(config: dict) -> None:
    """Raise ConfigError listing every cross-field violation."""
    problems = [message for check in CHECKS for message in check(config)]
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
