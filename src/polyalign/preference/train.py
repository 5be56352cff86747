"""DPO and HDPO training (docs/method.md §7) on the shared accelerate loop (`train.trainer.train`).

The policy starts from the system's starting checkpoint (SFT for DPO, Bucket-SFT for HDPO).
Each micro-batch of K pairs is ONE forward over 2K rows (chosen then rejected); the loss is the
system's method's pair loss (`method_pair_loss`: `hdpo_loss` for both paper methods) with the
cached reference log-probs, the critic scores and the pair weights as constants, and the chosen
half's token-mean NLL as the SFT anchor. DPO is `hdpo_loss` with λ = 0, γ_sft = 0 and w = 1 (its
resolved config), which reduces to sigmoid DPO exactly. No reference model is held in memory: with no cache given, the reference log-probs
are computed by the freshly loaded policy itself before its first update.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import torch

from .. import methods
from ..io import read_jsonl, write_json
from ..systems import method_of
from ..train import losses as loss_functions
from ..train.logprobs import pair_logps
from ..train.losses import critic_shares, hdpo_loss, normalised_lam
from .config import START_POLICY, PreferenceSettings, PreferenceStage, loss_settings, preference_stage
from .examples import PairExample, collate_pairs, pairs_fingerprint, tokenize_pairs
from .reference_cache import attach_reference, compute_reference_logps, pair_max_length, read_reference_cache

log = logging.getLogger(__name__)


def preference_loss(
    model,
    batch: dict,
    *,
    beta: float,
    lam: float,
    gamma_sft: float,
    anchor_weighting: str,
    pair_loss=hdpo_loss,
):
    """(loss, metrics) of one micro-batch from `collate_pairs` (with ref_chosen/ref_rejected).
    The loss settings come from the resolved config (`preference.config.loss_settings`);
    `pair_loss` is the method's loss on sequence log-probs (the signature and components of
    `train.losses.hdpo_loss`)."""
    chosen, rejected, n_chosen, _ = pair_logps(model, batch)
    anchor_nll = -chosen / n_chosen.to(chosen.dtype) if gamma_sft != 0 else None
    loss, c = pair_loss(
        chosen,
        rejected,
        batch["ref_chosen"],
        batch["ref_rejected"],
        batch["s_pos"],
        batch["s_neg"],
        batch["weights"],
        anchor_nll,
        beta=beta,
        lam=lam,
        gamma_sft=gamma_sft,
        anchor_weighting=anchor_weighting,
    )
    metrics = {
        "accuracy": c["accuracy"].item(),
        "reward_margin": c["reward_margins"].mean().item(),
        "chosen_reward": c["chosen_rewards"].mean().item(),
        "rejected_reward": c["rejected_rewards"].mean().item(),
        "dpo_term": c["dpo_term"].item(),
        "r_term": c["r_term"].item(),
        "r_mean": c["r_mean"].item(),
        "anchor": c["anchor"].item(),
        "r_grad_share": c["r_grad_share"].item(),
        "r_loss_share": c["r_loss_share"].item(),
        "anchor_nll": (-chosen.detach() / n_chosen).mean().item(),
        "weight_mean": batch["weights"].mean().item(),
        "critic_gap": (batch["s_neg"] - batch["s_pos"]).mean().item(),
        "policy_chosen_logps": chosen.detach().mean().item(),
        "policy_rejected_logps": rejected.detach().mean().item(),
    }
    return loss, metrics


def method_pair_loss(name: str):
    """The pair loss function of preference method `name`: the function of polyalign.train.losses
    that its registry entry (`polyalign.methods`) names."""
    method = methods.get(name)
    loss = getattr(loss_functions, method.loss, None)
    if not callable(loss):
        raise ValueError(
            f"preference method {name!r}: loss {method.loss!r} is no function of polyalign.train.losses"
        )
    return loss


def prepare_items(
    pairs: Sequence[dict], model, tokenizer, stage: PreferenceStage, reference=None, progress: bool = False
) -> list[PairExample]:
    """Tokenised pairs with their reference log-probs: from the cache file (or rows keyed by id)
    `reference`, else computed now with `model` (which must still be the starting checkpoint).
    `stage`: `preference_stage(config, system)`."""
    check_pairs_match_config(pairs, stage.settings, stage.system)
    items = tokenize_pairs(pairs, tokenizer, pair_max_length(model, stage.model_max_length))
    if reference is None:
        from ..train.trainer import effective_mixed_precision

        mixed = effective_mixed_precision(stage.train.mixed_precision)
        rows = compute_reference_logps(
            model,
            items,
            tokenizer.pad_token_id,
            stage.settings.ref_batch_size,
            mixed,
            progress,
            stage.settings.shared_prompt,
        )
        cache, where = {r["id"]: r for r in rows}, "in-memory reference"
    elif isinstance(reference, dict):
        cache, where = reference, "reference rows"
    else:
        cache, where = read_reference_cache(reference), str(reference)
    attach_reference(items, cache, where)
    return items


def check_pairs_match_config(pairs: Sequence[dict], cfg: PreferenceSettings, system: str) -> None:
    """The pair file must have been built with this system's settings: with pair weights off,
    unit weights before rescaling (`weight_clipped`, or `weight` in files without it), so the
    final weights are 1, or one constant per language under language balance; zero critic
    scores when the critic is off (DPO is plain)."""
    if not cfg.pair_weights.enabled:
        if any(p.get("weight_clipped", p.get("weight", 1.0)) != 1.0 for p in pairs):
            raise ValueError(
                f"{system}: pair_weights are disabled but the pairs carry weights != 1 "
                "(pairs built for another system?)"
            )
        per_language: dict = {}
        for p in pairs:
            per_language.setdefault(p.get("language"), set()).add(p.get("weight", 1.0))
        if any(len(v) > 1 for v in per_language.values()) or (
            not cfg.language_balance and any(v != {1.0} for v in per_language.values())
        ):
            raise ValueError(
                f"{system}: pair_weights are disabled but the weights vary within a language "
                "(pairs built for another system?)"
            )
    if not cfg.critic and any(p.get("s_pos", 0.0) or p.get("s_neg", 0.0) for p in pairs):
        raise ValueError(
            f"{system}: the critic is off but the pairs carry critic scores (pairs built for another system?)"
        )


def train_preference(
    pairs: Sequence[dict],
    start_dir,
    config: dict,
    system: str,
    out_dir,
    reference=None,
    progress: bool = True,
    start_policy: str | None = None,
) -> dict:
    """Train `system` (dpo | hdpo) from the checkpoint `start_dir` on `pairs` and save it into
    `out_dir` (save_pretrained + train_log.jsonl + train_summary.json). `reference` is the cache
    file from `reference_cache.build_reference_cache` (or None: computed in memory first).
    `start_policy` names the model `start_dir` holds for the summary (the method's own when None;
    an ablation variant may start from another). Re-running with the same arguments resumes from
    the newest checkpoint in `out_dir`."""
    from ..config.settings import settings_dict
    from ..models.runtime import load_for_training
    from ..models.settings import model_settings
    from ..train.sft import SUMMARY_FILE, is_main_process
    from ..train.trainer import LOG_FILE, train

    if not pairs:
        raise ValueError("train_preference: no pairs")
    t0 = time.perf_counter()
    stage = preference_stage(config, system)  # the one parse of the preference blocks
    cfg, tcfg = stage.settings, stage.train
    losses = loss_settings(cfg)
    model, tokenizer = load_for_training(start_dir, model_settings(config.get("model")))
    if reference is None:
        from accelerate import PartialState

        model.to(PartialState().device)  # the in-memory reference pass runs where training will
    items = prepare_items(pairs, model, tokenizer, stage, reference, progress)
    losses["lam"] = loss_lam(cfg, items)
    model.train()
    run_key = {"system": system, **losses, "shared_prompt": cfg.shared_prompt}
    fingerprint = pairs_fingerprint(items, json.dumps(run_key, sort_keys=True))
    result = train(
        model,
        tokenizer,
        items,
        partial(collate_pairs, pad_id=tokenizer.pad_token_id, shared_prompt=cfg.shared_prompt),
        partial(preference_loss, **losses, pair_loss=method_pair_loss(method_of(system))),
        tcfg,
        out_dir,
        lengths=[it.row_length(cfg.shared_prompt) for it in items],
        fingerprint=fingerprint,
        progress=progress,
    )
    w = torch.tensor([it.weight for it in items], dtype=torch.float64)
    summary = {
        "stage": system,
        "start": str(start_dir),
        "start_policy": start_policy or START_POLICY[system],
        "pairs": len(items),
        "loss": losses,
        "lam": {"setting": cfg.lam, "normalization": cfg.lam_normalization, "loss": losses["lam"]},
        "critic_share": critic_share_summary(items, losses["lam"], Path(out_dir) / LOG_FILE),
        "critic": cfg.critic,
        "pair_weights": settings_dict(cfg.pair_weights),
        "reference": _describe(reference),
        "weight_mean": float(w.mean()),
        "weight_max": float(w.max()),
        "critic_gap_mean": float(sum(it.s_neg - it.s_pos for it in items) / len(items)),
        "train": result,
        "train_config": vars(tcfg),
        "seconds": time.perf_counter() - t0,
        "versions": {"torch": torch.__version__},
    }
    if is_main_process():
        write_json(Path(out_dir) / SUMMARY_FILE, summary)
    log.info("%s: %d pairs, %d steps, %.1f s", system, len(items), result["steps"], summary["seconds"])
    return summary


def loss_lam(cfg: PreferenceSettings, items: Sequence[PairExample]) -> float:
    """λ of the loss: `lam` as written, or (lam_normalization gradient) scaled over `items` so
    that the critic's gradient on the margins is lam times the DPO term's at the start."""
    if cfg.lam_normalization == "none":
        return float(cfg.lam)
    return normalised_lam(
        cfg.lam, [it.weight for it in items], [it.s_pos for it in items], [it.s_neg for it in items]
    )


def critic_share_summary(items: Sequence[PairExample], lam: float, log_path) -> dict:
    """The critic term's share of the gradient on the pair margins (`train.losses.critic_shares`)
    at the start of training (p = ½ for every pair, over all pairs) and, from the training log,
    the mean over its logged steps of the batch's gradient and loss shares."""
    w = torch.tensor([it.weight for it in items], dtype=torch.float64)
    sp = torch.tensor([it.s_pos for it in items], dtype=torch.float64)
    sn = torch.tensor([it.s_neg for it in items], dtype=torch.float64)
    zero = torch.zeros((), dtype=torch.float64)
    at_start, _ = critic_shares(torch.full_like(w, 0.5), sp, sn, w, lam, zero, zero, zero)
    rows = [json.loads(line) for line in Path(log_path).read_text().splitlines() if line.strip()]
    rows = [r for r in rows if "r_grad_share" in r]

    def mean(key):
        return float(sum(r[key] for r in rows) / len(rows)) if rows else None

    return {
        "gradient_at_start": float(at_start),
        "gradient_mean_logged": mean("r_grad_share"),
        "loss_mean_logged": mean("r_loss_share"),
        "logged_steps": len(rows),
    }


def _describe(reference) -> str:
    if reference is None:
        return "computed in memory from the starting checkpoint"
    return "rows given in memory" if isinstance(reference, dict) else str(reference)


def preference_job(job: dict) -> dict:
    """`train_preference` of a training job (polyalign.train.launch; stage = the system):
    inputs pairs, model and, optionally, reference; optionally the start policy's name."""
    inputs = job["inputs"]
    return train_preference(
        read_jsonl(inputs["pairs"]),
        inputs["model"],
        job["config"],
        job["stage"],
        job["out_dir"],
        reference=inputs.get("reference"),
        start_policy=job.get("start_policy"),
    )
