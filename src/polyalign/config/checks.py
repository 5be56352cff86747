"""Cross-field checks of a schema-valid config, run at DAG time (before any job).

The schema holds every per-key constraint (types, enums, numeric bounds, closed blocks). What a
single key cannot say lives here: orderings, sums, divisibility, the corpus registry and the
file system. Each check returns messages of the form "<key>: <constraint broken> (got ...)".
"""

from __future__ import annotations

import math

from ..methods import BLOCKS as METHOD_BLOCKS
from .schema import ConfigError


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
    from ..data import loaders

    return set(loaders.REGISTRY)


def check_corpus_keys(config: dict) -> list[str]:
    known = known_corpora()
    return [
        f"corpora.{key}: unknown corpus (registry keys: {', '.join(sorted(known))})"
        for key in (config.get("corpora") or {})
        if key not in known
    ]


def check_paths(config: dict) -> list[str]:
    from .paths import check_local_paths

    return check_local_paths(config)


def check_pair_weight_clip(config: dict) -> list[str]:
    """w_min <= w_max as the trainer sees them: dpo/hdpo overrides laid over preference's."""
    out = []
    base = (config.get("preference") or {}).get("pair_weights") or {}
    for block in ("preference", *METHOD_BLOCKS):
        own = (config.get(block) or {}).get("pair_weights") or {}
        if block != "preference" and not {"w_min", "w_max"} & set(own):
            continue  # both bounds inherited: the preference block's own check covers them
        weights = {**base, **own}
        low, high = weights.get("w_min"), weights.get("w_max")
        if low is not None and high is not None and low > high:
            inherited = [k for k in ("w_min", "w_max") if k not in own and block != "preference"]
            note = f" ({', '.join(inherited)} inherited from preference.pair_weights)" if inherited else ""
            out.append(f"{block}.pair_weights.w_min: must be <= w_max, got {low} > {high}{note}")
    return out


def check_human_eval_systems(config: dict) -> list[str]:
    """Rated systems are systems of this run (the registry, with the oracle row if enabled)."""
    from ..systems import systems

    known = systems(oracle_row=bool(config.get("oracle_row")))
    rated = (config.get("human_eval") or {}).get("systems") or []
    out = [
        f"human_eval.systems.{i}: {name!r} is not a system of this run (known: {', '.join(known)})"
        for i, name in enumerate(rated)
        if name not in known
    ]
    repeated = sorted({name for name in rated if rated.count(name) > 1})
    if repeated:
        out.append(f"human_eval.systems: each system is rated once, got {', '.join(repeated)} twice or more")
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


def check_variants(config: dict) -> list[str]:
    """Every variant parses and its merged config passes the schema and these checks; the run's
    own Bucket-SFT keeps its profile prompts (only a variant drops them)."""
    from ..workflow.variants import parse_variants, variant_config

    # a variant's merged config has no `variants` key: there the flag is the variant's to set
    if "variants" in config and not (config.get("bucket_sft") or {}).get("profile_prompts", True):
        return [
            "bucket_sft.profile_prompts: false would train the run's Bucket-SFT (and HDPO from it) on "
            "plain prompts while they generate with profile prompts; ablate it with a variant: "
            "{parent: bucket_sft, bucket_sft: {profile_prompts: false}}"
        ]
    try:
        for variant in parse_variants(config).values():
            merged = variant_config(config, variant)
            try:
                check_config(merged)
            except ConfigError as e:
                raise ConfigError(
                    f"variants.{variant.name}: its settings merged over {variant.parent}'s: {e}"
                ) from e
    except ConfigError as e:
        return [str(e)]
    return []


def check_independent_detectors(config: dict) -> list[str]:
    """The independent detector pair is a second BaseLM trained from scratch with its own seed:
    with a hub base it would be a copy of the compared systems' ancestor, and with a run seed as
    its seed it would repeat that seed's SFT."""
    from ..detectors.settings import detector_config, independent_used

    cfg = detector_config(config)
    used = independent_used(cfg)
    if not used:
        return []
    out = []
    source = (config.get("model") or {}).get("source")
    if source != "scratch":
        out.append(
            f"detectors: {', '.join(used)} (the independent pair) needs model.source scratch, got "
            f"{source!r} (its BaseLM would be a copy of the compared systems' base); name hub models "
            "for the zero-shot pairs and set detectors.trained.sample_models"
        )
    seed = cfg["independent_seed"]
    if seed in (config.get("seeds") or []):
        out.append(
            f"detectors.independent_seed: must differ from every run seed, got {seed} (seeds {config['seeds']})"
        )
    return out


CHECKS = (
    check_length_thresholds,
    check_split_weights,
    check_model_shape,
    check_corpus_keys,
    check_paths,
    check_pair_weight_clip,
    check_human_eval_systems,
    check_generation_fits,
    check_run_seeds,
    check_variants,
    check_independent_detectors,
)


def check_config(config: dict) -> None:
    """Raise ConfigError listing every cross-field violation."""
    problems = [message for check in CHECKS for message in check(config)]
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
