"""Batched generation for every system with one shared decoding config.

Prompts are rendered with the system's training format (`polyalign.systems`), sorted by
token length, left-padded into batches and decoded with the KV cache by
`polyalign.decoding.decode_batch`, where a row leaves the batch as soon as it emits eos; outputs
are returned in input order. Each (record, sample) row samples from its own seeded stream
(`polyalign.decoding.row_seed`, `SeededTopPSampler`), so its randomness does not depend on which
other rows share its batch or in what order records come. What is guaranteed:
byte-identical outputs for two runs with the same model, records, config and machine (same
number of threads). Across batch sizes/compositions outputs are identical up to floating-point
differences of the logits with different padding widths, which can flip near-ties (rare; the
tests check batched == one-at-a-time greedy on a micro model). Several processes share a run by
decoding whole batches of the one-process plan (`batch_plan`, `shard_batches`;
`polyalign.generate_shards`), so they reproduce the one-process rows exactly.
"""

from __future__ import annotations

import time
from dataclasses import replace

import torch

from .config import block_defaults, schema_default
from .config.settings import settings_dict, settings_from_block
from .decoding import GenerationSettings, SeededTopPSampler, decode_batch, eos_ids_of, row_seed
from .progress import progress_bar
from .prompts import (
    LengthSampler,
    extract_final_answer,
    profile_length_bin,
    render_prompt_ids,
)
from .systems import prompt_style


def generation_settings(config: dict, overrides: dict | None = None) -> GenerationSettings:
    """GenerationSettings of a resolved config's `generation:` block, `overrides` on top (a rule's
    per-job change, e.g. num_samples of the preference stage's samples)."""
    return settings_from_block(
        GenerationSettings, {**(config.get("generation") or {}), **(overrides or {})}, "generation"
    )


def new_token_budget(gcfg: GenerationSettings, style: str) -> int:
    """Tokens a system may generate: max_new_tokens, plus cot_extra_tokens for the CoT prompt."""
    return gcfg.max_new_tokens + (gcfg.cot_extra_tokens if style == "cot" else 0)


def batch_plan(prompts_ids: list[list[int]], batch_size: int) -> list[list[int]]:
    """The batches of one generate pass, as prompt positions, in decoding order: prompts sorted
    by length (longest first, ties in input order), cut into runs of `batch_size`."""
    order = sorted(range(len(prompts_ids)), key=lambda i: -len(prompts_ids[i]))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def shard_batches(batches: list[list[int]], shard: tuple[int, int]) -> list[list[int]]:
    """Process `rank`'s share of the batches (strided: batch k goes to rank k mod world). Whole
    batches are dealt out, never prompts, so each prompt is decoded in exactly the batch (same
    rows, same padding width) as in a one-process run, and the outputs match it bit for bit."""
    rank, world = shard
    if not 0 <= rank < world:
        raise ValueError(f"shard rank {rank} outside 0..{world - 1}")
    return batches[rank::world]


@torch.no_grad()
def generate_ids(
    model,
    prompts_ids: list[list[int]],
    seeds: list[int],
    gcfg: GenerationSettings,
    pad_id: int,
    eos_ids: list[int],
    progress: bool = False,
    shard: tuple[int, int] = (0, 1),
) -> list[tuple[list[int], str] | None]:
    """(generated ids without eos/padding, finish_reason) per prompt, in input order. With
    shard=(rank, world) only that rank's batches are decoded; the other prompts' entries are None."""
    batches = shard_batches(batch_plan(prompts_ids, gcfg.batch_size), shard)
    device = next(model.parameters()).device
    results: list = [None] * len(prompts_ids)
    for idx in progress_bar(batches, desc="generate", enabled=progress, mininterval=0.5):
        width = max(len(prompts_ids[i]) for i in idx)
        input_ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            p = prompts_ids[i]
            input_ids[row, width - len(p) :] = torch.tensor(p)
            mask[row, width - len(p) :] = 1
        sampler = (
            SeededTopPSampler([seeds[i] for i in idx], gcfg.temperature, gcfg.top_p)
            if gcfg.do_sample
            else None
        )
        tokens, lengths = decode_batch(
            model, input_ids.to(device), mask.to(device), sampler, gcfg.max_new_tokens, eos_ids
        )
        for row, i in enumerate(idx):
            gen = tokens[row, : lengths[row]].tolist()
            done = bool(gen) and gen[-1] in eos_ids
            results[i] = (gen[:-1], "eos") if done else (gen, "length")
    return results


def generate_records(
    model,
    tokenizer,
    records: list[dict],
    system: str,
    gcfg: GenerationSettings,
    *,
    profile_length: str = schema_default("profile_length"),
    length_sampler: LengthSampler | None = None,
    max_prompt_tokens: int | None = None,
    max_history_turns: int | None = None,
    progress: bool = True,
    shard: tuple[int, int] = (0, 1),
) -> list[dict | None]:
    """One output row per (record, sample), in input order; see module docstring for seeding.
    With shard=(rank, world) the rows of other ranks' batches are None (`shard_batches`)."""
    style = prompt_style(system)
    gcfg = replace(gcfg, max_new_tokens=new_token_budget(gcfg, style))
    model.eval()
    eos_ids = eos_ids_of(model, tokenizer)
    max_pos = getattr(model.config, "max_position_embeddings", None)
    if max_pos and max_prompt_tokens and max_prompt_tokens + gcfg.max_new_tokens > max_pos:
        raise ValueError(
            f"max_prompt_tokens {max_prompt_tokens} + {gcfg.max_new_tokens} new tokens ({system}) "
            f"exceeds the model's {max_pos} positions (raise model.max_length)"
        )

    rows, prompts_ids, seeds = [], [], []
    for r in records:
        length_bin = profile_length_bin(r, profile_length, length_sampler) if style == "profile" else None
        prompt, ids = render_prompt_ids(
            r, tokenizer, None, style, length_bin, max_prompt_tokens, max_history_turns
        )
        for j in range(gcfg.num_samples):
            rows.append(
                {
                    "id": r["id"],
                    "sample": j,
                    "system": system,
                    "style": style,
                    "prompt": prompt,
                    "profile_length": profile_length if style == "profile" else None,
                    "length_bin": length_bin,
                    "prompt_tokens": len(ids),
                }
            )
            prompts_ids.append(ids)
            seeds.append(row_seed(gcfg.seed, r["id"], j))

    generated = generate_ids(
        model, prompts_ids, seeds, gcfg, tokenizer.pad_token_id, eos_ids, progress, shard
    )
    for k, done in enumerate(generated):
        if done is None:
            rows[k] = None
            continue
        row, (ids, reason) = rows[k], done
        text = tokenizer.decode(ids, skip_special_tokens=True).strip()
        answer, found = extract_final_answer(text) if style == "cot" else (text, True)
        row.update(
            {
                "output": text,
                "answer": answer,
                "answer_found": found,
                "finish_reason": reason,
                "output_tokens": len(ids),
            }
        )
    return rows


def generate_file(
    model_dir,
    records: list[dict],
    system: str,
    config: dict,
    out_path,
    *,
    train_records: list[dict] | None = None,
    overrides: dict | None = None,
    profile_length: str | None = None,
    progress: bool = True,
    shard: tuple[int, int] = (0, 1),
) -> dict:
    """Load `model_dir`, generate for `records` with `system`'s prompt format and write JSONL
    (atomically) to `out_path`. `train_records` fit the profile length sampler (needed when the
    system uses profiles and profile_length is `sampled`). Returns a summary for the log.

    shard=(rank, world), world > 1: one process of a sharded run (`polyalign.generate_shards`);
    `out_path` then receives only this rank's rows, each as {"index": input position, "row": row},
    and the summary's row statistics cover those rows."""
    from .io import write_jsonl
    from .models.runtime import load_model_for_inference
    from .models.settings import model_settings
    from .models.tokenizer_report import answer_token_lengths, check_max_new_tokens, length_summary
    from .prompts import PROFILE_LENGTH_MODES, prompt_settings

    t0 = time.perf_counter()
    gcfg = generation_settings(config, overrides)
    pcfg = prompt_settings(config)
    mode = profile_length or config.get("profile_length", block_defaults()["profile_length"])
    if mode not in PROFILE_LENGTH_MODES:
        raise ValueError(f"profile_length must be one of {PROFILE_LENGTH_MODES}, got {mode!r}")
    sampler = None
    if prompt_style(system) == "profile" and mode == "sampled":
        if not train_records:
            raise ValueError(f"system {system} with profile_length=sampled needs the train split")
        sampler = LengthSampler.fit(train_records, seed=gcfg.seed)
    model, tokenizer = load_model_for_inference(model_dir, model_settings(config.get("model")))
    lengths = answer_token_lengths(tokenizer, train_records) if train_records else None
    if gcfg.length_check_quantile is not None:
        if lengths is None:
            raise ValueError(
                "generation.length_check_quantile is set: generate_file needs the train split to check "
                "max_new_tokens against the human answer lengths"
            )
        check_max_new_tokens(gcfg.max_new_tokens, lengths, gcfg.length_check_quantile)
    rows = generate_records(
        model,
        tokenizer,
        records,
        system,
        gcfg,
        profile_length=mode,
        length_sampler=sampler,
        max_prompt_tokens=pcfg.max_prompt_tokens,
        max_history_turns=pcfg.max_history_turns,
        progress=progress,
        shard=shard,
    )
    if shard[1] > 1:
        rows = [{"index": k, "row": row} for k, row in enumerate(rows) if row is not None]
    write_jsonl(out_path, rows)
    return {
        "system": system,
        "model": str(model_dir),
        "records": len(records),
        "decoding": settings_dict(gcfg),
        "profile_length": mode if prompt_style(system) == "profile" else None,
        "max_new_tokens_used": new_token_budget(gcfg, prompt_style(system)),
        "human_answer_length_tokens": length_summary(lengths) if lengths else None,
        **row_statistics([r["row"] for r in rows] if shard[1] > 1 else rows, time.perf_counter() - t0),
        "torch": torch.__version__,
    }


def row_statistics(rows: list[dict], seconds: float) -> dict:
    """The summary entries that depend on the generated rows and the wall time."""
    n_out = sum(r["output_tokens"] for r in rows)
    return {
        "rows": len(rows),
        "eos_rate": sum(r["finish_reason"] == "eos" for r in rows) / max(1, len(rows)),
        "answer_found_rate": sum(r["answer_found"] for r in rows) / max(1, len(rows)),
        "output_tokens": n_out,
        "seconds": seconds,
        "output_tokens_per_s": n_out / max(seconds, 1e-9),
    }
