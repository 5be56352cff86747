"""What a tokenizer costs per language, measured on human answers (logged by train_tokenizer).

- tokens per character of the answers of each language (Chinese must stay at most
  `MAX_ZH_TOKENS_PER_CHAR`: a character-level vocabulary gives ~1.0);
- the CJK characters of the texts that are not exactly one token (must be none for the scratch
  tokenizer), <unk> counts and round-trip failures;
- per-language quantiles of answer lengths in tokens: `max_new_tokens` must reach the 95th
  percentile of every language (`check_max_new_tokens`), so no system is cut short of the human
  distribution it is measured against.

Quantiles here are nearest-rank: the smallest value with at least p·n values at or below it,
sorted[ceil(p·n) − 1], so "max_new_tokens ≥ p95" means at least 95 % of answers fit.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from .tokenizer import is_cjk

MAX_ZH_TOKENS_PER_CHAR = 1.1
LENGTH_QUANTILES = (0.5, 0.9, 0.95, 0.99)


def nearest_rank(values: Sequence[int], p: float) -> int:
    """sorted[ceil(p·n) − 1] (p in (0, 1]); the smallest value covering at least p·n values."""
    if not values:
        raise ValueError("nearest_rank: no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def _encode(tokenizer, texts: list[str]) -> list[list[int]]:
    return tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []


def answer_token_lengths(tokenizer, records: Iterable[dict]) -> dict[str, list[int]]:
    """Token counts of the non-empty human answers, per language."""
    texts = defaultdict(list)
    for r in records:
        if r.get("human_answer"):
            texts[r["language"]].append(r["human_answer"])
    return {lang: [len(ids) for ids in _encode(tokenizer, t)] for lang, t in sorted(texts.items())}


def length_summary(lengths_by_language: dict[str, list[int]]) -> dict[str, dict]:
    """{language: {n, mean, p50, p90, p95, p99, max}} of answer lengths in tokens."""
    out = {}
    for lang, lengths in sorted(lengths_by_language.items()):
        out[lang] = {
            "n": len(lengths),
            "mean": sum(lengths) / len(lengths),
            **{f"p{round(q * 100)}": nearest_rank(lengths, q) for q in LENGTH_QUANTILES},
            "max": max(lengths),
        }
    return out


def answer_length_quantiles(tokenizer, records: Iterable[dict]) -> dict[str, dict]:
    return length_summary(answer_token_lengths(tokenizer, records))


def check_max_new_tokens(
    max_new_tokens: int,
    lengths_by_language: dict[str, list[int]],
    quantile: float = 0.95,
    where: str = "generation.max_new_tokens",
) -> dict[str, int]:
    """The `quantile` of each language's answer lengths; fails loudly when `max_new_tokens` is
    below any of them."""
    needed = {lang: nearest_rank(v, quantile) for lang, v in sorted(lengths_by_language.items()) if v}
    short = {lang: q for lang, q in needed.items() if max_new_tokens < q}
    if short:
        raise ValueError(
            f"{where} = {max_new_tokens} is below the {quantile:g} quantile of human answer lengths "
            f"(in this model's tokens, train split) for {short}; raise it to at least "
            f"{max(short.values())} (and model.max_length with it)"
        )
    return needed


def tokenizer_report(tokenizer, records: list[dict], texts: Iterable[str] | None = None) -> dict:
    """Costs per language on the records' human answers; CJK characters of `texts` (default: the
    answers) that are not a single token."""
    unk = tokenizer.unk_token_id
    per_lang = {}
    by_lang = defaultdict(list)
    for r in records:
        if r.get("human_answer"):
            by_lang[r["language"]].append(r["human_answer"])
    for lang, answers in sorted(by_lang.items()):
        ids = _encode(tokenizer, answers)
        n_tokens, n_chars = sum(map(len, ids)), sum(map(len, answers))
        per_lang[lang] = {
            "answers": len(answers),
            "chars": n_chars,
            "tokens": n_tokens,
            "tokens_per_char": n_tokens / max(1, n_chars),
            "unk_tokens": sum(x.count(unk) for x in ids) if unk is not None else 0,
            "round_trip_failures": sum(tokenizer.decode(x) != a for x, a in zip(ids, answers)),
        }
    cjk = sorted(
        {
            c
            for t in (texts if texts is not None else (a for v in by_lang.values() for a in v))
            for c in t
            if is_cjk(c)
        }
    )
    split = [c for c, ids in zip(cjk, _encode(tokenizer, cjk)) if len(ids) != 1 or ids[0] == unk]
    return {
        "vocab_size": len(tokenizer),
        "per_language": per_lang,
        "answer_length_tokens": answer_length_quantiles(tokenizer, records),
        "cjk_chars": len(cjk),
        "cjk_chars_not_one_token": split[:50],
        "n_cjk_chars_not_one_token": len(split),
    }


def check_serves_chinese(report: dict) -> None:
    """The scratch tokenizer's contract: every CJK character of the train texts is one token and
    Chinese answers cost at most MAX_ZH_TOKENS_PER_CHAR tokens per character."""
    if report["n_cjk_chars_not_one_token"]:
        raise ValueError(
            f"{report['n_cjk_chars_not_one_token']} CJK characters of the train split are not a single "
            f"token, e.g. {report['cjk_chars_not_one_token'][:10]}"
        )
    zh = report["per_language"].get("zh")
    if zh and zh["tokens_per_char"] > MAX_ZH_TOKENS_PER_CHAR:
        raise ValueError(
            f"Chinese answers cost {zh['tokens_per_char']:.3f} tokens per character "
            f"(> {MAX_ZH_TOKENS_PER_CHAR})"
        )
