"""A tiny synthetic test split: 2 languages, 3 buckets, features, train references, embeddings."""

from __future__ import annotations

import numpy as np

from polyalign.evaluation.settings import BootstrapSettings, EvaluationSettings
from polyalign.metrics.mauve_metrics import MauveSettings
from polyalign.references import build_references

BUCKETS = ("en|multi|dialogue|short", "en|single|qa|short", "zh|single|dialogue|short")
NAMES = ["f_len", "f_a", "f_b", "f_c", "f_en_only", "f_zh_only"]
SCOPES = ["all", "all", "all", "all", "en", "zh"]
N_PER_BUCKET = 12
EN_WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()
ZH_TEXTS = "今天天气很好 我们去公园吧 你吃饭了吗 这本书很有意思 明天见 我很喜欢音乐".split()


def _answer(bucket: str, i: int) -> str:
    if bucket.startswith("zh"):
        return ZH_TEXTS[i % len(ZH_TEXTS)] + "。" * (1 + i % 3)
    return " ".join(EN_WORDS[(i + k) % len(EN_WORDS)] for k in range(1 + i % 4)) + "."


def make_records() -> list[dict]:
    records = []
    for bucket in BUCKETS:
        lang, track, family, length = bucket.split("|")
        for i in range(N_PER_BUCKET):
            records.append(
                {
                    "id": f"{bucket.replace('|', '-')}-{i:02d}",
                    "dataset": f"toy_{lang}",
                    "split": "test",
                    "language": lang,
                    "track": track,
                    "family": family,
                    "situation": "open_chat",
                    "length_bin": length,
                    "question": (
                        f"question {EN_WORDS[i % 12]} {i}" if lang == "en" else f"问题{ZH_TEXTS[i % 6]}{i}"
                    ),
                    "context": "",
                    "history": [{"role": "user", "text": "hi"}] if track == "multi" else [],
                    "human_answer": _answer(bucket, i),
                    "bucket_id": bucket,
                    "meta": {},
                }
            )
    return records


def features(records: list[dict], seed: int, shift: float = 0.0) -> dict:
    """Feature table: deterministic per row (seeded noise), NaN outside the language scope."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(len(records), len(NAMES))) + shift
    X[:, 0] = [len(r["human_answer"]) + shift for r in records]
    for i, r in enumerate(records):
        X[i, 4 if r["language"] == "zh" else 5] = np.nan
    return {"ids": [r["id"] for r in records], "names": list(NAMES), "X": X}


def references(records: list[dict]) -> dict:
    """Train references from other (seeded) rows of the same buckets."""
    train = [dict(r, id=r["id"] + "-train") for r in records for _ in range(2)]
    feats = features(train, seed=7)
    return build_references(
        feats["X"],
        [r["bucket_id"] for r in train],
        [r["language"] for r in train],
        NAMES,
        min_bucket_size=10,
        scopes=SCOPES,
    )


def embeddings(records: list[dict], seed: int, shift: float = 0.0) -> dict:
    rng = np.random.default_rng(seed)
    return {"ids": [r["id"] for r in records], "E": rng.normal(size=(len(records), 8)) + shift}


def generations(records: list[dict], answers=None, system: str = "sys") -> list[dict]:
    answers = answers or [r["human_answer"] for r in records]
    return [
        {
            "id": r["id"],
            "system": system,
            "prompt": "p",
            "output": a,
            "answer": a,
            "finish_reason": "eos",
            "prompt_tokens": 3,
            "output_tokens": 4,
        }
        for r, a in zip(records, answers)
    ]


def settings(n_resamples: int = 40) -> EvaluationSettings:
    return EvaluationSettings(
        min_bucket_size=10,
        mauve=MauveSettings(kmeans_num_redo=1, kmeans_max_iter=50),
        bootstrap=BootstrapSettings(n_resamples=n_resamples),
    )
