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

# (config block, key) set to the run seed.
SEEDED_KEYS = (("train_common", "seed"), ("generation", "seed"), ("critic", "seed"))


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
