"""Constrained 1-5 scoring of the eight dimensions with a causal LM judge.

The reply is built as token ids: `task_success: s1\\nfactual_grounding: s2\\n...`. At each score
position only the five score tokens are allowed: the chosen score is the most probable of them
(the paper's integer form), and the expected score is their mean under the judge's distribution
renormalised over the five. `score_mass` records how much of the unconstrained distribution
the five tokens held (a judge that wanted to write something else shows a low mass). The prompt
is encoded once; each dimension then feeds only its few new tokens through the KV cache.

Prompts longer than `max_prompt_tokens` are not truncated: they are counted, listed and left
unscored (reported in Table 3).
"""

from __future__ import annotations

import numpy as np
import torch

from ..metrics.judge import DIMENSIONS
from .prompt import judge_prompt_ids
from .rubric import SCORES


def score_segments(tokenizer) -> list[tuple[list[int], list[int]]]:
    """Per dimension: (ids before the score token, the five score token ids). The score token is
    the last token of `name: s`; the ids before it must be the same for all five scores."""
    segments = []
    for k, dim in enumerate(DIMENSIONS):
        lead = "\n" if k else ""
        encoded = [tokenizer(f"{lead}{dim}: {s}", add_special_tokens=False)["input_ids"] for s in SCORES]
        prefixes = {tuple(ids[:-1]) for ids in encoded}
        score_ids = [ids[-1] for ids in encoded]
        if len(prefixes) != 1 or len(set(score_ids)) != len(SCORES):
            raise ValueError(
                f"judge tokenizer: the scores 1-5 after '{dim}:' are not five distinct single tokens"
            )
        segments.append((list(prefixes.pop()), score_ids))
    return segments


def _left_pad(batch: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(ids) for ids in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, row in enumerate(batch):
        ids[i, width - len(row) :] = torch.tensor(row, dtype=torch.long)
        mask[i, width - len(row) :] = 1
    return ids, mask


@torch.no_grad()
def score_batch(model, segments, prompts: list[list[int]], pad_id: int) -> dict[str, np.ndarray]:
    """Scores of one batch: chosen [B, 8] ints, expected [B, 8], score_mass [B, 8]."""
    device = next(model.parameters()).device
    ids, mask = _left_pad([p + segments[0][0] for p in prompts], pad_id)
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    chosen = np.zeros((len(prompts), len(DIMENSIONS)), dtype=np.int64)
    expected = np.zeros((len(prompts), len(DIMENSIONS)))
    mass = np.zeros((len(prompts), len(DIMENSIONS)))
    past = None
    scores = torch.tensor(SCORES, dtype=torch.float64)
    for k, (_, score_ids) in enumerate(segments):
        out = model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            cache=past,
            use_cache=True,
            logits_to_keep=1,
        )
        past = out.cache
        logprobs = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1).double().cpu()
        allowed = logprobs[:, score_ids]
        probs = torch.softmax(allowed, dim=-1)
        pick = allowed.argmax(dim=-1)  # first maximum: ties go to the lower score
        chosen[:, k] = scores[pick].numpy().astype(np.int64)
        expected[:, k] = (probs * scores).sum(-1).numpy()
        mass[:, k] = allowed.exp().sum(-1).numpy()
        if k + 1 < len(segments):
            step = torch.tensor([[score_ids[p]] + segments[k + 1][0] for p in pick.tolist()], device=device)
            last = positions[:, -1:]
            positions = last + torch.arange(1, step.shape[1] + 1, device=device)
            mask = torch.cat([mask, torch.ones_like(step)], dim=1)
            ids = step
    return {"chosen": chosen, "expected": expected, "score_mass": mass}


def judge_rows(
    model,
    tokenizer,
    records: list[dict],
    candidates: list[dict],
    *,
    batch_size: int,
    max_prompt_tokens: int,
    chat_template_kwargs: dict | None = None,
) -> tuple[list[dict], dict]:
    """Score every candidate row (`id`, `system`, `answer`) against its record. Returns one row per
    candidate (scored or marked over_length) and counts for the log."""
    by_id = {r["id"]: r for r in records}
    segments = score_segments(tokenizer)
    reply_tokens = sum(len(p) + 1 for p, _ in segments)
    max_positions = getattr(model.config, "max_position_embeddings", None)
    rows, todo = [], []
    for cand in candidates:
        if cand["id"] not in by_id:
            raise ValueError(f"judge: generation row {cand['id']!r} has no test record")
        ids = judge_prompt_ids(tokenizer, by_id[cand["id"]], cand["answer"], chat_template_kwargs)
        row = {
            "id": cand["id"],
            "system": cand["system"],
            "language": by_id[cand["id"]]["language"],
            "prompt_tokens": len(ids),
        }
        too_long = len(ids) > max_prompt_tokens or (max_positions and len(ids) + reply_tokens > max_positions)
        row["over_length"] = bool(too_long)
        rows.append(row)
        if not too_long:
            todo.append((row, ids))
    todo.sort(key=lambda item: len(item[1]))  # similar lengths share a batch: less padding
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        out = score_batch(model, segments, [ids for _, ids in chunk], tokenizer.pad_token_id)
        for i, (row, _) in enumerate(chunk):
            row["scores"] = {d: int(out["chosen"][i, k]) for k, d in enumerate(DIMENSIONS)}
            row["expected"] = {d: float(out["expected"][i, k]) for k, d in enumerate(DIMENSIONS)}
            row["score_mass"] = {d: float(out["score_mass"][i, k]) for k, d in enumerate(DIMENSIONS)}
    n_over = sum(r["over_length"] for r in rows)
    masses = [m for r in rows if not r["over_length"] for m in r["score_mass"].values()]
    counts = {
        "candidates": len(rows),
        "scored": len(rows) - n_over,
        "over_length": n_over,
        "over_length_ids": [r["id"] for r in rows if r["over_length"]],
        "parse_failures": 0,  # constrained decoding: every scored position yields a score
        "mean_score_mass": float(np.mean(masses)) if masses else None,
    }
    return rows, counts
