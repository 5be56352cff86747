"""GPU-hours of a configured run, per stage, per seed and in total (docs/paper_scale.md).

    python -m polyalign.estimate --configfile config/paper.yaml [--gpu-check FILE] [--decode-loop static|continuous]

Counts come from the config (corpora, subsample, models, budgets, seeds, judges, detectors) and the
paper's documented corpus sizes (`inputs`); per-token costs from benchmarks/gpu_check.py's JSON or
documented defaults (`costs`); the per-stage arithmetic is in `stages`.
"""

from __future__ import annotations

from .costs import Costs, load_costs
from .stages import DECODE_LOOPS, Estimator, Stage

__all__ = ["Costs", "DECODE_LOOPS", "Estimator", "Stage", "load_costs", "load_profile", "report"]


def load_profile(raw: dict) -> dict:
    """A profile with its preset applied and every schema default filled in, validated; local
    paths are not checked (the estimate reads no data)."""
    from ..config import fill_defaults, validate_schema
    from ..models.presets import resolve_model_block

    config = fill_defaults({**raw, "model": resolve_model_block(raw)})
    validate_schema(config)
    return config


def totals(stages: list[Stage], seeds: int) -> tuple[float, float, float]:
    """(GPU-hours per seed, GPU-hours of the once-only stages, total over `seeds`)."""
    per_seed = sum(s.seconds for s in stages if s.per_seed) / 3600
    once = sum(s.seconds for s in stages if not s.per_seed) / 3600
    return per_seed, once, once + seeds * per_seed


def report(config: dict, costs: Costs, loop: str, label: str) -> str:
    """The estimate as Markdown: a header of what was assumed, one row per stage, the totals."""
    est = Estimator(config, costs, loop)
    stages = est.stages()
    seeds = len(config["seeds"])
    per_seed, once, total = totals(stages, seeds)
    records = {
        split: sum(s.records for s in est.splits if s.split == split) for split in ("train", "val", "test")
    }
    sub = config["subsample"]
    g = config["generation"]
    lines = [
        f"Compute estimate of {label} (profile {config['profile']}): model {config['model']['source']} "
        f"({est.model.params / 1e9:.2f} B parameters), {seeds} seed(s) {config['seeds']}, "
        f"{len(est.systems)} systems, {len(config['judge']['models'])} judge(s).",
        f"Records: train {records['train']:,}, val {records['val']:,}, test {records['test']:,} "
        + (
            "(the paper's inventory)."
            if sub["fraction"] >= 1
            else f"(subsample fraction {sub['fraction']}, at least {sub['min_per_stratum']} per stratum: an upper bound)."
        ),
        f"Generation: batch {g['batch_size']}, budget {g['max_new_tokens']} new tokens "
        f"(CoT +{g['cot_extra_tokens']}), decode loop: {loop}.",
        f"Per-token costs: {costs.source}: peak {costs.peak_tflops:g} TFLOP/s, MFU train "
        f"{costs.train_mfu:g} / preference {costs.preference_mfu:g} / forward {costs.forward_mfu:g}, "
        f"decode overhead {costs.decode_overhead_per_layer_s * 1e3:.2f} ms per layer and step, "
        f"memory {costs.hbm_bytes_per_s / 1e12:g} TB/s.",
        "",
        "| stage | runs | work per run | GPU-h per run | GPU-h in total | costs |",
        "|---|---|---|---:|---:|---|",
    ]
    for s in stages:
        runs = seeds if s.per_seed else 1
        lines.append(
            f"| {s.name} | {'per seed' if s.per_seed else 'once'} | {s.work} | "
            f"{s.seconds / 3600:.2f} | {runs * s.seconds / 3600:.2f} | {s.origin} |"
        )
    lines += [
        f"| **per seed** | | | **{per_seed:.1f}** | | |",
        f"| **once** | | | **{once:.1f}** | | |",
        f"| **total, {seeds} seed(s)** | | | | **{total:.1f}** | |",
    ]
    variants = config.get("variants") or {}
    if variants:
        lines += [
            "",
            f"Not counted: the ablation variants {', '.join(variants)} (each trains, generates on "
            "the test split and is evaluated per seed like its parent: add its parent's rows).",
        ]
    return "\n".join(lines)
