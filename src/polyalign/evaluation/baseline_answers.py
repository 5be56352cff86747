"""The answers of the trivial baselines (polyalign.baselines), written as a system's test
generations: a random same-bucket human train answer, another test prompt's human answer of the
same bucket, and one constant reply per language chosen on the train split."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..baselines import BASELINES, get
from ..io import InputError

# Candidates of the constant answer: the most frequent train answers of the language.
CONSTANT_CANDIDATES = 50


def _token_f1(pred: Counter, pred_len: int, ref: Counter, ref_len: int) -> float:
    if not pred_len or not ref_len:
        return float(pred_len == ref_len)
    same = sum((pred & ref).values())
    if same == 0:
        return 0.0
    p, r = same / pred_len, same / ref_len
    return 2 * p * r / (p + r)


def constant_answers(
    train: Sequence[dict], zh_tokenization: str | None = None, n_candidates: int = CONSTANT_CANDIDATES
) -> dict[str, dict]:
    """{language: {answer, mean_qa_f1, count}}: per language, among its `n_candidates` most frequent
    non-empty train answers (ties: the shorter, then the lexicographically first), the one with
    the highest mean token F1 (QA-F1, the evaluation's tokenisation) against every train answer of
    the language (ties: the more frequent, then candidate order). zh_tokenization None: the
    evaluation's default."""
    from ..metrics.tokenize import ZH_TOKENIZATION, answer_tokens

    zh_tokenization = zh_tokenization or ZH_TOKENIZATION
    out = {}
    for lang in sorted({r["language"] for r in train}):
        answers = [r["human_answer"] for r in train if r["language"] == lang]
        counts = Counter(a.strip() for a in answers if a.strip())
        if not counts:
            raise InputError(f"constant baseline: no non-empty train answer in language {lang!r}")
        candidates = sorted(counts, key=lambda a: (-counts[a], len(a), a))[:n_candidates]
        refs = [answer_tokens(a, lang, zh_tokenization) for a in answers]
        refs = [(Counter(t), len(t)) for t in refs]
        best = None
        for cand in candidates:
            toks = answer_tokens(cand, lang, zh_tokenization)
            c, n = Counter(toks), len(toks)
            score = sum(_token_f1(c, n, rc, rn) for rc, rn in refs) / len(refs)
            key = (score, counts[cand])
            if best is None or key > best[0]:
                best = (key, cand)
        (score, count), answer = best
        out[lang] = {"answer": answer, "mean_qa_f1": score, "count": count}
    return out


def _donor_pools(records: Sequence[dict]) -> tuple[dict, dict]:
    """({bucket: [row index]}, {language: [row index]}) of the records with a non-empty answer."""
    by_bucket: dict = {}
    by_lang: dict = {}
    for i, r in enumerate(records):
        if r["human_answer"].strip():
            by_bucket.setdefault(r["bucket_id"], []).append(i)
            by_lang.setdefault(r["language"], []).append(i)
    return by_bucket, by_lang


def _draw_donors(test: Sequence[dict], donors: Sequence[dict], rng, exclude_self: bool) -> tuple[list, int]:
    """One donor row per test record (same bucket, else same language); the number of fallbacks."""
    by_bucket, by_lang = _donor_pools(donors)
    picks, fallback = [], 0
    for r in test:
        pool = [
            i for i in by_bucket.get(r["bucket_id"], []) if not (exclude_self and donors[i]["id"] == r["id"])
        ]
        if not pool:
            fallback += 1
            pool = [
                i for i in by_lang.get(r["language"], []) if not (exclude_self and donors[i]["id"] == r["id"])
            ]
        if not pool:
            raise InputError(
                f"baseline: no donor answer for test prompt {r['id']} (language {r['language']})"
            )
        picks.append(donors[pool[int(rng.integers(len(pool)))]])
    return picks, fallback


def _row(record: dict, name: str, answer: str, donor: str | None) -> dict:
    return {
        "id": record["id"],
        "system": name,
        "sample": 0,
        "answer": answer,
        "output": answer,
        "answer_found": True,
        "finish_reason": "baseline",
        "donor": donor,
    }


def baseline_generations(
    name: str,
    test: Sequence[dict],
    train: Sequence[dict],
    seed: int | None,
    zh_tokenization: str | None = None,
) -> tuple[list[dict], dict]:
    """(generation rows in test order, report) of baseline `name`; `seed` is the run seed (unused
    by the constant answer)."""
    baseline = get(name)
    if name == "constant":
        chosen = constant_answers(train, zh_tokenization)
        missing = sorted({r["language"] for r in test} - set(chosen))
        if missing:
            raise InputError(f"constant baseline: no train answers in language(s) {missing}")
        rows = [_row(r, name, chosen[r["language"]]["answer"], None) for r in test]
        return rows, {
            "baseline": name,
            "label": baseline.label,
            "answers": chosen,
            "rule": constant_answers.__doc__,
        }
    if seed is None:
        raise ValueError(f"baseline {name!r} is drawn per run seed: give the seed")
    import numpy as np

    rng = np.random.default_rng([int(seed), BASELINES.index(name)])
    donors, exclude_self = (train, False) if name == "human_train_bucket" else (test, True)
    picks, fallback = _draw_donors(test, donors, rng, exclude_self)
    rows = [_row(r, name, d["human_answer"], d["id"]) for r, d in zip(test, picks)]
    report = {
        "baseline": name,
        "label": baseline.label,
        "seed": int(seed),
        "n": len(rows),
        "language_fallback": fallback,
    }
    return rows, report
