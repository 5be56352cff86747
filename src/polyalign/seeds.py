"""Run seeds: what one seed of the workflow controls.

`seed` (config) is the data seed: splits, subsampling, the tokenizer and the BaseLM, which stands
in for a fixed pretrained model, are built once from it. `seeds` (config, default [0, 1, 2]) are
the run seeds: every later stage is repeated once per run seed, and that seed is the seed of
each stochastic step of the stage:

- training (SFT, Bucket-SFT, DPO, HDPO): `train_common.seed`: order of the micro-batches,
  dropout and any head initialisation (accelerate's set_seed);
- decoding (test generations of every system, train-prompt samples): `generation.seed`: the
  per-row sampling streams and the profile length bins drawn for Bucket-SFT and HDPO prompts;
- the critic: `critic.seed`: its head's initialisation, batch order and held-out split.

Run seed 0 reproduces the single-seed workflow (those three keys used to default to 0).
"""

from __future__ import annotations

import copy

from .methods import BLOCKS as METHOD_BLOCKS

# (config block, key) set to the run seed.
SEEDED_KEYS = (("train_common", "seed"), ("generation", "seed"), ("critic", "seed"))
# Per-seed training stages whose block may override train_common.seed: the run seed must win.
PER_SEED_TRAIN_BLOCKS = ("sft", "bucket_sft", "preference", *METHOD_BLOCKS)


def check_no_stage_seeds(config: dict) -> list[str]:
    """Problems with a config that sets a seed the run seeds own (it would be silently
    replaced): a SEEDED_KEYS value other than its schema default (the library default), or a
    seed in a per-seed training stage's block."""
    from .config import block_defaults

    problems = []
    for block, key in SEEDED_KEYS:
        value, default = (config.get(block) or {}).get(key, None), block_defaults(block).get(key)
        if value is not None and value != default:
            problems.append(f"{block}.{key}: set by the run seeds (config `seeds`), remove it")
    for block in PER_SEED_TRAIN_BLOCKS:
        if isinstance(config.get(block), dict) and "seed" in config[block]:
            problems.append(f"{block}.seed: set by the run seeds (config `seeds`), remove it")
    return problems


def run_seeds(config: dict) -> list[int]:
    """The configured run seeds: a non-empty list of distinct non-negative ints."""
    seeds = config.get("seeds")
    if not isinstance(seeds, list) or not seeds:
        raise ValueError(f"config seeds: need a non-empty list of integers, got {seeds!r}")
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ValueError(f"config seeds: need non-negative integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"config seeds: duplicate seed in {seeds!r}")
    return list(seeds)


def seeded_config(config: dict, seed: int) -> dict:
    """A copy of `config` whose stochastic stages all use run seed `seed` (SEEDED_KEYS)."""
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"run seed must be a non-negative integer, got {seed!r}")
    out = copy.deepcopy(config)
    for block, key in SEEDED_KEYS:
        out[block] = {**(out.get(block) or {}), key: int(seed)}
    return out
