"""Ablation variants: systems declared in the config as a parent system plus the settings they
change (config `variants:`; docs/ablations.md).

    variants:
      hdpo_no_critic: {parent: hdpo, hdpo: {lam: 0}}

A variant trains its own model, per run seed, exactly as its parent does (the same rules and
library code, the parent's start policy and prompt style), with the parent's config blocks and
the variant's keys merged on top (nested mappings key by key); a preference variant may name
another `start_policy` (HDPO from SFT), whose train-prompt samples, checkpoint (start and
reference) and prompt style it then takes; a variant of Bucket-SFT or HDPO may name its own
`bucket_key`, and then trains on the train split re-bucketed by it (HDPO with that key's
references and critic). It then generates, is evaluated (on the run's buckets) and pooled like
any system, under its own name. Its parent must be one of the trained systems of the registry
(polyalign.systems); a variant of a variant is refused, so every variant differs from a system
of the paper in exactly the keys it names.

No torch here: the workflow reads it at DAG time.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

from .. import methods, systems
from ..buckets import validate_bucket_key
from ..config import ConfigError
from ..io import InputError

# Keys of a variant entry that are not config blocks.
ENTRY_KEYS = ("parent", "label", "start_policy", "bucket_key")
# The systems whose training reads the buckets (Bucket-SFT's weights; HDPO's references, critic
# and pair weights): only their variants may bucket by another key.
BUCKET_PARENTS = ("bucket_sft", "hdpo")
# Keys a preference variant may not change: the methods starting from one policy share its
# train-prompt samples (polyalign.preference.config.policy_num_samples).
SHARED_SAMPLE_KEYS = ("num_samples",)


@dataclass(frozen=True)
class Variant:
    name: str
    parent: str  # a trained system of polyalign.systems
    overrides: Mapping  # {block: {key: value}}, merged over the parent's resolved blocks
    label: str
    start_policy: str | None = None  # a preference variant's own start policy (None: its parent's)
    bucket_key: tuple[str, ...] | None = None  # its own bucket key (None: the run's)

    @property
    def system(self) -> systems.System:
        """The variant as a system: its own model, its parent's method and prompt style (plain for a
        Bucket-SFT variant trained without profile prompts; its start policy's for a preference
        variant that starts from another one)."""
        p = systems.get(self.parent)
        style = systems.prompt_style(self.start_policy) if self.start_policy else p.prompt_style
        if (self.overrides.get("bucket_sft") or {}).get("profile_prompts") is False:
            style = "plain"
        return systems.System(
            self.name, self.name, style, self.label, None, method=p.method, start_override=self.start_policy
        )


def trained_parents() -> tuple[str, ...]:
    """Systems a variant can derive from: those that train a model of their own."""
    return tuple(
        s.name for s in systems.REGISTRY.values() if s.model == s.name and s.model != systems.BASE_MODEL
    )


def parent_blocks(parent: str) -> tuple[str, ...]:
    """The config blocks a variant of `parent` may change: the ones its training reads as its own
    (the shared train_common, model, generation, ... blocks are the run's, not a system's)."""
    system = systems.get(parent)
    if system.is_preference:
        return ("preference", methods.get(system.method).block)
    if parent in systems.SFT_MODELS:
        return ("sft", "bucket_sft") if system.prompt_style == "profile" else ("sft",)
    raise ConfigError(f"{parent!r} trains no model of its own (variant parents: {list(trained_parents())})")


def parse_start_policy(where: str, parent: str, policy, config: Mapping) -> str:
    """A variant's `start_policy`: a preference parent, a policy whose train-prompt samples the run
    draws already (a registered method's start policy), not the parent's own, and drawn as many
    per prompt as the parent's pairs read."""
    where = f"{where}.start_policy"
    system = systems.get(parent)
    if not system.is_preference:
        raise ConfigError(
            f"{where}: {parent} is no preference system; only a variant of one "
            f"({', '.join(systems.PREFERENCE_SYSTEMS)}) starts from a policy"
        )
    allowed = methods.start_policies()
    if policy not in allowed:
        raise ConfigError(
            f"{where}: {policy!r} is not a start policy (those are {', '.join(allowed)}: the models "
            "whose train-prompt samples the run draws)"
        )
    if policy == system.start_policy:
        raise ConfigError(f"{where}: {policy!r} is {parent}'s own start policy; the variant changes nothing")
    from ..preference.config import method_settings, policy_num_samples

    k, drawn = int(method_settings(config, system.method).num_samples), policy_num_samples(config, policy)
    if k != drawn:
        raise ConfigError(
            f"{where}: {parent}'s pairs read {k} samples per prompt but {policy}'s are drawn {drawn} per "
            "prompt; a variant cannot change num_samples"
        )
    return policy


def parse_bucket_key(where: str, parent: str, key, config: Mapping) -> tuple[str, ...]:
    """A variant's `bucket_key`: a parent whose training reads the buckets, a valid key that starts
    with the language and is not the run's own."""
    where = f"{where}.bucket_key"
    if parent not in BUCKET_PARENTS:
        raise ConfigError(
            f"{where}: {parent}'s training reads no buckets; only a variant of "
            f"{' or '.join(BUCKET_PARENTS)} buckets by its own key"
        )
    try:
        validate_bucket_key(key)
    except InputError as e:
        raise ConfigError(f"{where}: {e}") from None
    if key[0] != "language":
        raise ConfigError(
            f"{where}: {list(key)} must start with language (the reports read a bucket id's first "
            "field as its language)"
        )
    if list(key) == list(config["bucket_key"]):
        raise ConfigError(f"{where}: {list(key)} is the run's own bucket key; the variant changes nothing")
    return tuple(key)


def key_name(bucket_key) -> str:
    """The folder of a bucket key's re-bucketed train split, references and critic (bucket_key/{name}/)."""
    return "-".join(bucket_key)


def merge(base, override):
    """`override` over `base`: mappings merged key by key (recursively), anything else replaced."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        out = {k: copy.deepcopy(v) for k, v in base.items()}
        for k, v in override.items():
            out[k] = merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(override)


def _leaves(block, prefix=()):
    if isinstance(block, Mapping) and block:
        for k, v in block.items():
            yield from _leaves(v, (*prefix, k))
    else:
        yield prefix, block


def parse_variant(name: str, entry: Mapping, config: Mapping) -> Variant:
    """One `variants:` entry checked against the resolved `config`: a new name, a trained parent
    that is no variant, only the parent's own blocks, and every named key changing a value."""
    where = f"variants.{name}"
    if name in systems.REGISTRY:
        raise ConfigError(f"{where}: {name!r} is a system of the registry; give the variant its own name")
    if not isinstance(entry, Mapping) or "parent" not in entry:
        raise ConfigError(f"{where}: a variant is a mapping with a `parent` system and the blocks it changes")
    parent = entry["parent"]
    if parent in (config.get("variants") or {}):
        raise ConfigError(
            f"{where}.parent: {parent!r} is itself a variant. A variant of a variant is refused: "
            f"name {parent!r}'s own parent and write both variants' settings into this one"
        )
    if parent not in trained_parents():
        raise ConfigError(f"{where}.parent: {parent!r} is not a trained system ({list(trained_parents())})")
    start = None
    if "start_policy" in entry:
        start = parse_start_policy(where, parent, entry["start_policy"], config)
    key = parse_bucket_key(where, parent, entry["bucket_key"], config) if "bucket_key" in entry else None
    allowed = parent_blocks(parent)
    overrides = {k: v for k, v in entry.items() if k not in ENTRY_KEYS}
    if not overrides and start is None and key is None:
        raise ConfigError(f"{where}: changes no setting of {parent!r}")
    for block, keys in overrides.items():
        if block not in allowed:
            raise ConfigError(
                f"{where}.{block}: a variant of {parent} may change only {', '.join(allowed)} "
                f"(the blocks its training reads as its own)"
            )
        if not isinstance(keys, Mapping) or not keys:
            raise ConfigError(f"{where}.{block}: a mapping of the keys it changes, got {keys!r}")
        for path, _ in _leaves(keys):
            if systems.get(parent).is_preference and path[0] in SHARED_SAMPLE_KEYS:
                raise ConfigError(
                    f"{where}.{block}.{path[0]}: the methods starting from one policy share its "
                    "samples; a variant cannot change it"
                )
    before, after = effective_settings(config, parent), effective_settings(merge(config, overrides), parent)
    for block, keys in overrides.items():
        for path, value in _leaves(keys):
            if _lookup(before, path) == _lookup(after, path):
                raise ConfigError(
                    f"{'.'.join([where, block, *map(str, path)])}: {value!r} leaves {parent}'s "
                    f"setting {'.'.join(map(str, path))} as it is; the variant changes nothing"
                )
    if key is not None and parent == "bucket_sft" and after["tau"] == 0:
        raise ConfigError(
            f"{where}.bucket_key: with tau 0 Bucket-SFT weighs no bucket; the key changes nothing"
        )
    label = entry.get("label") or f"{systems.label(parent)}: {name}"
    return Variant(name, parent, copy.deepcopy(overrides), label, start, key)


_MISSING = object()


def _lookup(block, path):
    for part in path:
        block = block.get(part, _MISSING) if isinstance(block, Mapping) else _MISSING
    return block


def effective_settings(config: Mapping, parent: str) -> dict:
    """The settings `parent`'s training reads from its own blocks, merged in its resolution order
    (later wins): preference <- the method block; sft <- bucket_sft."""
    system = systems.get(parent)
    if system.is_preference:
        from ..preference.config import method_block

        return method_block(config, system.method)
    return (
        merge(config.get("sft") or {}, config.get("bucket_sft") or {})
        if parent != "sft"
        else dict(config["sft"])
    )


# The preference settings that decide a system's pairs and their reference log-probs (rules
# build_pairs and reference_logps); a variant that changes none of them trains on its parent's.
PAIR_KEYS = (
    "critic",
    "num_samples",
    "pair_weights",
    "language_balance",
    "critic_batch_size",
    "critic_transform",
    "ref_batch_size",
    "mixed_precision",
)


def pairs_owner(config: Mapping, variant: Variant) -> str:
    """Whose pairs (and reference log-probs) preference variant `variant` trains on: its parent's
    when it changes only loss or training-loop settings (the same pairs, built once), else its own
    (always when it starts from another policy: other samples and another reference model; or
    buckets by another key: other references, critic and pair weights)."""
    if not systems.get(variant.parent).is_preference:
        raise ValueError(f"{variant.name}: its parent {variant.parent} trains on no pairs")
    if variant.start_policy is not None or variant.bucket_key is not None:
        return variant.name
    before = effective_settings(config, variant.parent)
    after = effective_settings(merge(config, variant.overrides), variant.parent)
    same = all(_lookup(before, (k,)) == _lookup(after, (k,)) for k in PAIR_KEYS)
    return variant.parent if same else variant.name


def parse_variants(config: Mapping) -> dict[str, Variant]:
    """{name: Variant} of the resolved config's `variants:` block, in config order."""
    return {
        name: parse_variant(name, entry, config) for name, entry in (config.get("variants") or {}).items()
    }


def variant_config(config: Mapping, variant: Variant) -> dict:
    """The resolved config the variant's jobs read: `config` with the variant's keys merged over
    its parent's blocks and its own `bucket_key` when it names one, validated against the schema
    (an unknown key or a value out of bounds fails naming the variant). The cross-field checks of
    the merged config run when the config is loaded (`config.checks.check_variants`)."""
    from ..config import validate_schema

    out = merge({k: v for k, v in config.items() if k != "variants"}, variant.overrides)
    if variant.bucket_key:
        out["bucket_key"] = list(variant.bucket_key)
    try:
        validate_schema(out)
    except ConfigError as e:
        raise ConfigError(f"variants.{variant.name}: its settings merged over {variant.parent}'s: {e}") from e
    return out
