"""Preference pairs (docs/method.md §6): chosen = the human answer, rejected = a policy sample.

Inputs are the train records and the generation rows of the starting policy on the train
prompts (`generate.generate_records` output: id, sample, prompt, style, length_bin, output,
finish_reason, ...): SFT samples for DPO, Bucket-SFT samples for HDPO (or those of the policy an
ablation variant starts from instead, `start_policy`). Per prompt:

1. candidates = its samples 0..k−1; a sample that is empty, or equal to the human answer after
   `normalize_text`, is dropped (counted per reason);
2. the prompt is dropped (counted) when its human answer is empty, its bucket has no reference
   (`critic_buckets`, whether or not the critic scores this system's pairs), it has no sample,
   no candidate survives, or it would be dropped for a companion (another method of the
   system's pairing group, `companions`): DPO and HDPO train on the same prompts;
3. with the critic on, every chosen and candidate text is scored in one batched call and the
   candidate scored farthest from support (highest c(y, b)) is the rejected side; with the
   critic off, the lowest sample index wins and s⁺ = s⁻ = 0;
4. pair weights are computed over the whole pair set with `train.weights.pair_weights`, then
   rescaled to mean 1, each language carrying the same total weight when `language_balance`
   is on (`train.weights.rescale_pair_weights`).

The pair's prompt is the generation row's rendered prompt, so the rejected side is scored
under exactly the prompt it was sampled from. For HDPO that prompt carries the chosen
answer's own length bin (the samples are drawn with profile_length gold, as Bucket-SFT was
trained): a bin drawn as at inference would contradict the human answer in about half of the
pairs, and the pair would teach the model to ignore the bin.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from ..config.settings import settings_dict
from ..io import InputError
from ..systems import prompt_style
from ..text import normalize_text
from ..train.weights import pair_weights, rescale_pair_weights
from .config import START_POLICY, PreferenceSettings

# (texts, bucket_ids, rendered prompts) -> float scores, lower = more human-like.
Scorer = Callable[[Sequence[str], Sequence[str], Sequence[str]], np.ndarray]

SAMPLE_FIELDS = ("id", "sample", "prompt", "style", "output", "finish_reason")
PROMPT_DROPS = (
    "empty_chosen",
    "bucket_without_reference",
    "no_sample",
    "empty_rejected",
    "identical",
    "dropped_for_companion",
)


def pair_profile_length(profile_length: str) -> str:
    """The profile_length of the policy samples that make pairs: the chosen answer's own bin
    ("gold", as Bucket-SFT trains), or no bin when the config's profile_length is "none"."""
    return "none" if profile_length == "none" else "gold"


RECORD_FIELDS = (
    "dataset",
    "language",
    "track",
    "family",
    "situation",
    "length_bin",
    "question",
    "context",
    "history",
)


def critic_scorer(
    critic, batch_size: int | None = None, progress: bool = False, transform: str = "none"
) -> Scorer:
    """Adapt a `polyalign.critic.Critic` to a Scorer (prompts passed only to a critic that is
    prompt-conditioned); `transform` "log1p" maps a score D to log(1 + max(D, 0))."""

    def score(texts, bucket_ids, prompts):
        s = np.asarray(
            critic.score(
                list(texts),
                list(bucket_ids),
                prompts=list(prompts) if critic.needs_prompts else None,
                batch_size=batch_size,
                progress=progress,
            ),
            dtype=np.float64,
        )
        return np.log1p(np.maximum(s, 0.0)) if transform == "log1p" else s

    return score


def group_samples(samples: Sequence[dict], record_ids: set, k: int) -> dict[str, list[dict]]:
    """Sample rows by record id, sorted by sample index, the first k kept. Unknown ids,
    duplicate (id, sample) and rows missing a field raise InputError."""
    by_id: dict[str, list[dict]] = defaultdict(list)
    for i, row in enumerate(samples):
        for f in SAMPLE_FIELDS:
            if f not in row:
                raise InputError(f"samples row {i}: missing field {f!r}")
        if row["id"] not in record_ids:
            raise InputError(
                f"samples row {i}: id {row['id']!r} is not a train record "
                "(samples from another split or corpus?)"
            )
        by_id[row["id"]].append(row)
    out = {}
    for rid, rows in by_id.items():
        rows.sort(key=lambda r: r["sample"])
        idx = [r["sample"] for r in rows]
        if len(set(idx)) != len(idx):
            raise InputError(f"samples: id {rid!r} has duplicate sample indices {idx}")
        if len({r["prompt"] for r in rows}) != 1:
            raise InputError(f"samples: the samples of id {rid!r} were drawn from different prompts")
        out[rid] = rows[:k]
    return out


def _check_style(
    samples: Sequence[dict], system: str, policy: str, by_record: dict, profile_length: str
) -> dict:
    want = prompt_style(policy)
    styles = Counter(r["style"] for r in samples)
    if set(styles) != {want}:
        raise InputError(
            f"{system} pairs need samples drawn with the {want!r} prompt style of "
            f"{policy}, got styles {dict(styles)}"
        )
    modes = Counter(r.get("profile_length") for r in samples)
    if want == "profile":
        if set(modes) != {profile_length}:
            raise InputError(
                f"{system} pairs need samples drawn with profile_length {profile_length!r} (gold: the "
                f"chosen answer's own length bin), got {dict(modes)}"
            )
        want_bin = (
            (lambda r: by_record[r["id"]]["length_bin"]) if profile_length == "gold" else (lambda r: None)
        )
        wrong = [r["id"] for r in samples if r.get("length_bin") != want_bin(r)]
        if wrong:
            raise InputError(
                f"{len(wrong)} sample row(s) carry a length bin other than their human answer's, "
                f"e.g. id {wrong[0]!r}"
            )
    return {"style": want, "profile_length": dict(modes)}


def usable_prompts(records: Sequence[dict], samples: Sequence[dict], k: int) -> set:
    """Ids of the records that give a pair from `samples` (first k per record): a non-empty
    human answer and at least one sample that is neither empty nor equal to it."""
    by_record = {r["id"]: r for r in records}
    grouped = group_samples(samples, set(by_record), k)
    out = set()
    for rid, rows in grouped.items():
        chosen = normalize_text(by_record[rid]["human_answer"])
        if chosen and any(normalize_text(x["output"]) not in ("", chosen) for x in rows):
            out.add(rid)
    return out


def build_pairs(
    records: Sequence[dict],
    samples: Sequence[dict],
    system: str,
    settings: PreferenceSettings,
    scorer: Scorer | None = None,
    critic_buckets: set | None = None,
    companions: Sequence[tuple[Sequence[dict], int]] = (),
    profile_length: str = "gold",
    start_policy: str | None = None,
) -> tuple[list[dict], dict]:
    """(pairs, report) for `system` (dpo | hdpo) from train `records` and policy `samples`.

    `settings` are the system's preference settings (`config.preference_settings`): `num_samples`,
    `critic`, `pair_weights`, `language_balance`. `scorer` is required iff `critic` is true.
    Profile samples must have been drawn with `profile_length` (`pair_profile_length` of the
    config's mode: gold, each record's own length bin, or none).
    `critic_buckets`: the buckets with a reference (the critic's); prompts of other buckets
    (under min_bucket_size) are dropped and counted, never scored 0, for both systems alike.
    `companions`: (samples, k) of the policy of each other method of the system's pairing group
    (`methods.companions`); prompts that give one of them no pair are dropped here too, so that
    the methods of a group (DPO and HDPO) train on the same prompts.
    `start_policy`: the model the samples come from, the method's own when None (an ablation
    variant may start elsewhere); the samples must carry its prompt style, which the pairs keep.
    """
    k = int(settings.num_samples)
    use_critic = bool(settings.critic)
    if use_critic and scorer is None:
        raise ValueError("build_pairs: critic is on but no scorer was given")
    if not records:
        raise InputError("build_pairs: no train records")
    if not samples:
        raise InputError("build_pairs: no policy samples")
    by_record = {r["id"]: r for r in records}
    policy = start_policy or START_POLICY[system]
    style_info = _check_style(samples, system, policy, by_record, profile_length)
    grouped = group_samples(samples, set(by_record), k)
    companion_ok = None
    for companion_samples, companion_k in companions:
        usable = usable_prompts(records, companion_samples, int(companion_k))
        companion_ok = usable if companion_ok is None else companion_ok & usable

    dropped, sample_drops = Counter(), Counter()
    kept = []  # (record, prompt row, [candidate rows])
    for r in records:
        rows = grouped.get(r["id"], [])
        chosen = normalize_text(r["human_answer"])
        if not chosen:
            dropped["empty_chosen"] += 1
            continue
        if critic_buckets is not None and r["bucket_id"] not in critic_buckets:
            dropped["bucket_without_reference"] += 1
            continue
        if not rows:
            dropped["no_sample"] += 1
            continue
        cands = []
        for row in rows:
            text = normalize_text(row["output"])
            if not text:
                sample_drops["empty"] += 1
            elif text == chosen:
                sample_drops["identical"] += 1
            else:
                cands.append(row)
        if not cands:
            reason = "empty_rejected" if all(not normalize_text(x["output"]) for x in rows) else "identical"
            dropped[reason] += 1
            continue
        if companion_ok is not None and r["id"] not in companion_ok:
            dropped["dropped_for_companion"] += 1
            continue
        kept.append((r, rows[0], cands))
    if not kept:
        raise InputError(f"build_pairs: every prompt was dropped ({dict(dropped)})")

    s_pos, s_neg, chosen_rows, cand_scores = _score(kept, scorer if use_critic else None)
    pairs = []
    for (r, first, cands), sp, sn, best, scores in zip(kept, s_pos, s_neg, chosen_rows, cand_scores):
        pairs.append(
            {
                "id": r["id"],
                "bucket_id": r["bucket_id"],
                **{f: r[f] for f in RECORD_FIELDS},
                "prompt": first["prompt"],
                "style": first["style"],
                "profile_length": first.get("profile_length"),
                "profile_length_bin": first.get("length_bin"),
                "chosen_length_bin": r["length_bin"],
                "chosen": r["human_answer"],
                "rejected": best["output"],
                "rejected_sample": best["sample"],
                "rejected_finished": best["finish_reason"] == "eos",
                "n_candidates": len(cands),
                "candidate_scores": scores,
                "s_pos": float(sp),
                "s_neg": float(sn),
            }
        )
    clipped = _weights(pairs, settings, use_critic)
    weights = rescale_pair_weights(clipped, [p["language"] for p in pairs], settings.language_balance)
    for p, c, w in zip(pairs, clipped, weights):
        p["weight_clipped"] = float(c)
        p["weight"] = float(w)
    report = _report(
        system, policy, settings, records, pairs, weights, clipped, dropped, sample_drops, style_info, k
    )
    return pairs, report


def _score(kept, scorer):
    """s⁺ per prompt, s⁻ and the chosen candidate row, and every candidate's score."""
    if scorer is None:
        zeros = [0.0] * len(kept)
        return zeros, zeros, [c[0] for _, _, c in kept], [[0.0] * len(c) for _, _, c in kept]
    texts, buckets, prompts = [], [], []
    for r, first, cands in kept:
        for text in [r["human_answer"]] + [c["output"] for c in cands]:
            texts.append(text)
            buckets.append(r["bucket_id"])
            prompts.append(first["prompt"])
    scores = np.asarray(scorer(texts, buckets, prompts), dtype=np.float64)
    if scores.shape != (len(texts),) or not np.all(np.isfinite(scores)):
        raise ValueError(
            f"critic returned {scores.shape} scores for {len(texts)} texts "
            f"(non-finite: {int((~np.isfinite(scores)).sum()) if scores.ndim == 1 else '?'})"
        )
    s_pos, s_neg, best_rows, all_scores, at = [], [], [], [], 0
    for _, _, cands in kept:
        sp, sc = scores[at], scores[at + 1 : at + 1 + len(cands)]
        at += 1 + len(cands)
        j = int(np.argmax(sc))  # hardest negative: farthest from support; ties -> lowest sample
        s_pos.append(float(sp))
        s_neg.append(float(sc[j]))
        best_rows.append(cands[j])
        all_scores.append([float(x) for x in sc])
    return s_pos, s_neg, best_rows, all_scores


def _weights(pairs: list[dict], settings: PreferenceSettings, use_critic: bool) -> np.ndarray:
    pw = settings_dict(settings.pair_weights)
    if not pw.pop("enabled"):
        return np.ones(len(pairs))
    if not use_critic:
        pw["use_critic"] = False  # critic off: s = 0 and its weight term is off
    return pair_weights(
        [p["bucket_id"] for p in pairs],
        [p["language"] for p in pairs],
        [p["s_pos"] for p in pairs],
        [p["s_neg"] for p in pairs],
        **pw,
    )


def _stats(x) -> dict:
    x = np.asarray(x, dtype=np.float64)
    q = np.quantile(x, [0.1, 0.5, 0.9])
    return {
        "mean": float(x.mean()),
        "std": float(x.std()),
        "min": float(x.min()),
        "q10": float(q[0]),
        "q50": float(q[1]),
        "q90": float(q[2]),
        "max": float(x.max()),
    }


def _report(
    system, policy, settings, records, pairs, weights, clipped, dropped, sample_drops, style_info, k
) -> dict:
    s_pos = np.array([p["s_pos"] for p in pairs])
    s_neg = np.array([p["s_neg"] for p in pairs])
    pw = settings_dict(settings.pair_weights)
    total = float(np.sum(weights))
    by = defaultdict(list)
    for p, w in zip(pairs, weights):
        by[("language", p["language"])].append(w)
        by[("bucket", p["bucket_id"])].append(w)
    gains = [
        max(p["candidate_scores"]) - float(np.mean(p["candidate_scores"]))
        for p in pairs
        if p["n_candidates"] > 1
    ]
    return {
        "system": system,
        "start_policy": policy,
        **style_info,
        "num_samples": k,
        "prompts": len(records),
        "pairs": len(pairs),
        "dropped": {reason: int(dropped.get(reason, 0)) for reason in PROMPT_DROPS},
        "samples_dropped": {"empty": int(sample_drops["empty"]), "identical": int(sample_drops["identical"])},
        "candidates_per_pair": dict(sorted(Counter(p["n_candidates"] for p in pairs).items())),
        "rejected_unfinished": sum(not p["rejected_finished"] for p in pairs),
        "critic": {
            "enabled": bool(settings.critic),
            "transform": settings.critic_transform,
            "s_pos": _stats(s_pos),
            "s_neg": _stats(s_neg),
            "gap_mean": float((s_neg - s_pos).mean()),
            "share_neg_above_pos": float((s_neg > s_pos).mean()),
            "hardest_negative_gain": float(np.mean(gains)) if gains else None,
        },
        "weights": {
            "settings": pw,
            "language_balance": settings.language_balance,
            **_stats(weights),
            "clipped": _stats(clipped),
            "share_at_w_min": float(np.isclose(clipped, pw["w_min"]).mean()) if pw["enabled"] else 0.0,
            "share_at_w_max": float(np.isclose(clipped, pw["w_max"]).mean()) if pw["enabled"] else 0.0,
            "by_language": {
                key: {"n": len(v), "mean": float(np.mean(v)), "mass_share": float(np.sum(v)) / total}
                for (kind, key), v in sorted(by.items())
                if kind == "language"
            },
            "by_bucket": {
                key: {"n": len(v), "mean": float(np.mean(v))}
                for (kind, key), v in sorted(by.items())
                if kind == "bucket"
            },
        },
    }
