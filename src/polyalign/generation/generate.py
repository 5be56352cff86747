"""Generation for every system with one shared decoding config.

Prompts are rendered with the system's training format (`polyalign.systems`) and sorted by
token length (longest first); the sorted list is cut into parts of `generation.part_rows` rows,
and each part is decoded by the continuous-batching loop (`polyalign.generation.continuous`): up to
`batch_size` rows decode together and a row that ends (eos or its token budget) hands its slot
to the next waiting prompt. Outputs are returned in input order. Each (record, sample) row
samples from its own seeded stream (`polyalign.generation.decoding.row_seed`, `SeededTopPSampler`), so
its randomness does not depend on which other rows share its steps or in what order records
come. What is guaranteed: byte-identical outputs for two runs with the same model, records,
config and machine (same number of threads). Across batch compositions outputs are identical up
to floating-point differences of the logits with different padding widths, which can flip
near-ties (rare; the tests check the continuous loop gives the static loop's tokens).

A part starts from an empty batch, so it is decoded identically whichever process decodes it
and whether or not earlier parts were decoded in the same process: several processes share a
run by decoding every G-th part (`shard_parts`; `polyalign.generation.shards`), and a killed job
resumes after its last complete part (`polyalign.generation.parts`).

Token budgets: `max_new_tokens` caps every system (`system_max_new_tokens` may lower it per
system); with `budget_quantile` set, each language's budget is `budget_headroom` × that quantile
of the human answer lengths (model tokens, train split), at most the cap; CoT adds
`cot_extra_tokens` on top (docs/paper_scale.md).
"""

from __future__ import annotations

import hashlib
import json
import math
import time

import torch

from ..config import schema_default
from ..config.settings import settings_dict, settings_from_block
from ..progress import progress_bar
from ..prompts import LengthSampler, extract_final_answer, profile_length_bin, render_prompt_ids
from ..systems import prompt_style
from .continuous import decode_continuous
from .decoding import DecodeStats, GenerationSettings, eos_ids_of, length_order, row_seed


def generation_settings(config: dict, overrides: dict | None = None) -> GenerationSettings:
    """GenerationSettings of a resolved config's `generation:` block, `overrides` on top (a rule's
    per-job change, e.g. num_samples of the preference stage's samples)."""
    return settings_from_block(
        GenerationSettings, {**(config.get("generation") or {}), **(overrides or {})}, "generation"
    )


def system_cap(gcfg: GenerationSettings, system: str) -> int:
    """The most new tokens `system` may generate before CoT's extra: max_new_tokens, or the
    system's own lower cap (system_max_new_tokens)."""
    return min(gcfg.max_new_tokens, gcfg.system_max_new_tokens.get(system, gcfg.max_new_tokens))


def new_token_budget(gcfg: GenerationSettings, style: str, system: str | None = None) -> int:
    """Tokens a system may generate at most: its cap, plus cot_extra_tokens for the CoT prompt."""
    cap = gcfg.max_new_tokens if system is None else system_cap(gcfg, system)
    return cap + (gcfg.cot_extra_tokens if style == "cot" else 0)


def language_budgets(
    gcfg: GenerationSettings, system: str, lengths_by_language: dict[str, list[int]]
) -> dict[str, int]:
    """New-token budget per language before CoT's extra: ceil(budget_headroom × the
    budget_quantile of the language's human answer lengths), at most the system's cap; the cap
    for every language when budget_quantile is null."""
    from ..models.tokenizer_report import nearest_rank

    cap = system_cap(gcfg, system)
    if gcfg.budget_quantile is None:
        return {lang: cap for lang in lengths_by_language}
    return {
        lang: min(cap, math.ceil(gcfg.budget_headroom * nearest_rank(v, gcfg.budget_quantile)))
        for lang, v in sorted(lengths_by_language.items())
        if v
    }


def row_budget(
    gcfg: GenerationSettings,
    system: str,
    record: dict,
    budgets: dict[str, int] | None,
    style: str | None = None,
) -> int:
    """New tokens one row of `record` may generate (CoT's extra included); `style`: the system's
    prompt style when None."""
    extra = gcfg.cot_extra_tokens if (style or prompt_style(system)) == "cot" else 0
    if budgets is None:
        return system_cap(gcfg, system) + extra
    if record["language"] not in budgets:
        raise ValueError(
            f"record {record['id']}: no token budget for language {record['language']!r} (budgets from "
            f"the train split's human answers cover {sorted(budgets)})"
        )
    return budgets[record["language"]] + extra


def part_plan(prompts_ids: list[list[int]], part_rows: int) -> list[list[int]]:
    """The parts of one generate pass, as prompt positions: prompts sorted by length (longest
    first, ties in input order, `length_order`), cut into runs of `part_rows`."""
    order = length_order(prompts_ids)
    return [order[start : start + part_rows] for start in range(0, len(order), part_rows)]


def shard_parts(n_parts: int, shard: tuple[int, int]) -> list[int]:
    """Process `rank`'s parts (strided: part k goes to rank k mod world). A part is decoded from
    an empty batch, so its rows are the same whichever process decodes it."""
    rank, world = shard
    if not 0 <= rank < world:
        raise ValueError(f"shard rank {rank} outside 0..{world - 1}")
    return list(range(rank, n_parts, world))


def decode_part(
    model,
    prompts_ids: list[list[int]],
    seeds: list[int],
    budgets: list[int],
    positions: list[int],
    gcfg: GenerationSettings,
    pad_id: int,
    eos_ids: list[int],
    stats: DecodeStats | None = None,
) -> list[tuple[list[int], str]]:
    """(generated ids without eos, finish_reason) of the prompts at `positions`, in that order."""
    return decode_continuous(
        model,
        [prompts_ids[i] for i in positions],
        [seeds[i] for i in positions],
        [budgets[i] for i in positions],
        batch_size=gcfg.batch_size,
        eos_ids=eos_ids,
        pad_id=pad_id,
        sampling=(gcfg.temperature, gcfg.top_p) if gcfg.do_sample else None,
        stats=stats,
    )


def generate_ids(
    model,
    prompts_ids: list[list[int]],
    seeds: list[int],
    gcfg: GenerationSettings,
    pad_id: int,
    eos_ids: list[int],
    progress: bool = False,
    shard: tuple[int, int] = (0, 1),
    budgets: list[int] | None = None,
    stats: DecodeStats | None = None,
) -> list[tuple[list[int], str] | None]:
    """(generated ids without eos/padding, finish_reason) per prompt, in input order; each
    prompt generates at most its `budgets` entry (default: max_new_tokens). With
    shard=(rank, world) only that rank's parts are decoded; the other prompts' entries are None."""
    budgets = budgets if budgets is not None else [gcfg.max_new_tokens] * len(prompts_ids)
    plan = part_plan(prompts_ids, gcfg.part_rows)
    results: list = [None] * len(prompts_ids)
    for k in progress_bar(shard_parts(len(plan), shard), desc="generate", enabled=progress):
        done = decode_part(model, prompts_ids, seeds, budgets, plan[k], gcfg, pad_id, eos_ids, stats)
        for i, out in zip(plan[k], done):
            results[i] = out
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
    budgets: dict[str, int] | None = None,
    parts=None,
    stats: DecodeStats | None = None,
    style: str | None = None,
) -> list[dict | None]:
    """One output row per (record, sample), in input order; see module docstring for seeding.
    `budgets`: new tokens per language (`language_budgets`; None: the system's cap for all).
    With shard=(rank, world) the rows of other ranks' parts are None (`shard_parts`). `parts`
    (a `polyalign.generation.parts.PartStore`): complete parts are read from it instead of
    decoded, and each decoded part is saved to it before the next one starts. `style`: the prompt
    style, the system's own when None (a variant may train with another one)."""
    style = style or prompt_style(system)
    model.eval()
    eos_ids = eos_ids_of(model, tokenizer)
    if budgets is None:
        most = new_token_budget(gcfg, style, system)
    else:
        most = max(budgets.values(), default=0) + (gcfg.cot_extra_tokens if style == "cot" else 0)
    max_pos = getattr(model.config, "max_position_embeddings", None)
    if max_pos and max_prompt_tokens and max_prompt_tokens + most > max_pos:
        raise ValueError(
            f"max_prompt_tokens {max_prompt_tokens} + {most} new tokens ({system}) "
            f"exceeds the model's {max_pos} positions (raise model.max_length)"
        )

    rows, prompts_ids, seeds, row_budgets = [], [], [], []
    plan_hash = hashlib.sha256(json.dumps([settings_dict(gcfg), eos_ids, tokenizer.pad_token_id]).encode())
    for r in records:
        length_bin = profile_length_bin(r, profile_length, length_sampler) if style == "profile" else None
        prompt, ids = render_prompt_ids(
            r, tokenizer, None, style, length_bin, max_prompt_tokens, max_history_turns
        )
        budget = row_budget(gcfg, system, r, budgets, style)
        plan_hash.update(json.dumps([r["id"], system, prompt, length_bin, ids, budget]).encode())
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
            row_budgets.append(budget)

    plan = part_plan(prompts_ids, gcfg.part_rows)
    if parts is not None:
        parts.bind({"rows": len(rows), "digest": plan_hash.hexdigest()})
    done: list = [None] * len(rows)
    for k in progress_bar(shard_parts(len(plan), shard), desc="generate", enabled=progress):
        saved = parts.load(k) if parts is not None else None
        if saved is None:
            generated = decode_part(
                model, prompts_ids, seeds, row_budgets, plan[k], gcfg, tokenizer.pad_token_id, eos_ids, stats
            )
            saved = [
                {"index": i, "row": finished_row(rows[i], ids, reason, tokenizer)}
                for i, (ids, reason) in zip(plan[k], generated)
            ]
            if parts is not None:
                parts.save(k, saved)
        elif [e["index"] for e in saved] != plan[k]:
            raise RuntimeError(f"part {k} of {parts}: holds other rows than the plan's (a different input?)")
        for entry in saved:
            done[entry["index"]] = entry["row"]
    return done


def finished_row(row: dict, ids: list[int], reason: str, tokenizer) -> dict:
    """`row` (its prompt fields) with the decoded output of `ids`."""
    text = tokenizer.decode(ids, skip_special_tokens=True).strip()
    answer, found = extract_final_answer(text) if row["style"] == "cot" else (text, True)
    return {
        **row,
        "output": text,
        "answer": answer,
        "answer_found": found,
        "finish_reason": reason,
        "output_tokens": len(ids),
    }


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
    style: str | None = None,
) -> dict:
    """Load `model_dir`, generate for `records` with `system`'s prompt format and write JSONL
    (atomically) to `out_path`. `train_records` fit the profile length sampler (needed when the
    system uses profiles and profile_length is `sampled`) and size the token budgets. Returns a
    summary for the log. Parts are written to `out_path`.parts/ as they are decoded and the
    complete ones of an earlier, killed run of the same job are reused
    (`polyalign.generation.parts`).

    shard=(rank, world), world > 1: one process of a sharded run (`polyalign.generation.shards`)
    writes only its parts (the launcher merges them into `out_path`); the summary's row
    statistics cover its rows."""
    from ..io import write_jsonl
    from ..models.runtime import load_model_for_inference
    from ..models.settings import model_settings
    from ..models.tokenizer_report import answer_token_lengths, check_max_new_tokens, length_summary
    from ..prompts import PROFILE_LENGTH_MODES, prompt_settings
    from .parts import PartStore, directory_digest, generation_code_digest, parts_dir

    t0 = time.perf_counter()
    gcfg = generation_settings(config, overrides)
    pcfg = prompt_settings(config)
    mode = profile_length or config.get("profile_length", schema_default("profile_length"))
    if mode not in PROFILE_LENGTH_MODES:
        raise ValueError(f"profile_length must be one of {PROFILE_LENGTH_MODES}, got {mode!r}")
    sampler = None
    style = style or prompt_style(system)
    if style == "profile" and mode == "sampled":
        if not train_records:
            raise ValueError(f"system {system} with profile_length=sampled needs the train split")
        sampler = LengthSampler.fit(train_records, seed=gcfg.seed)
    model, tokenizer = load_model_for_inference(model_dir, model_settings(config.get("model")))
    lengths = answer_token_lengths(tokenizer, train_records) if train_records else None
    budgets = None
    if gcfg.budget_quantile is not None:
        if lengths is None:
            raise ValueError(
                "generation.budget_quantile is set: generate_file needs the train split to size the "
                "token budgets from the human answer lengths"
            )
        budgets = language_budgets(gcfg, system, lengths)
    if gcfg.length_check_quantile is not None:
        if lengths is None:
            raise ValueError(
                "generation.length_check_quantile is set: generate_file needs the train split to check "
                "max_new_tokens against the human answer lengths"
            )
        for lang, budget in (budgets or {"all languages": system_cap(gcfg, system)}).items():
            check_max_new_tokens(
                budget,
                {lang: lengths[lang]} if budgets else lengths,
                gcfg.length_check_quantile,
                where=f"the new-token budget of {system} for {lang}",
            )
    parts = PartStore(
        parts_dir(out_path),
        {
            "model": directory_digest(model_dir),
            "code": generation_code_digest(),
            "torch": torch.__version__,
            "device": next(model.parameters()).device.type,
        },
    )
    stats = DecodeStats()
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
        budgets=budgets,
        parts=parts,
        stats=stats,
        style=style,
    )
    rows = [row for row in rows if row is not None]
    if shard[1] == 1:
        write_jsonl(out_path, rows)
        parts.remove()
    return {
        "system": system,
        "model": str(model_dir),
        "records": len(records),
        "decoding": settings_dict(gcfg),
        "style": style,
        "profile_length": mode if style == "profile" else None,
        "max_new_tokens_used": new_token_budget(gcfg, style, system),
        "new_token_budgets": budgets,
        "human_answer_length_tokens": length_summary(lengths) if lengths else None,
        "parts_resumed": parts.resumed,
        "decode": {**vars(stats), "forward_calls": stats.forward_calls},
        **row_statistics(rows, time.perf_counter() - t0),
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
