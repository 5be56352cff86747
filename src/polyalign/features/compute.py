"""φ(y) of a response set: human answers of a split, or a system's generations.

LM features condition on the record's prompt rendered in the plain style for the scoring model,
the same prompt for human answers and for every system, so features stay comparable. Empty
generations (and empty human answers: unanswerable questions) cannot be featurised: they are
kept as invalid rows (NaN) and reported.
"""

from __future__ import annotations

import numpy as np

from ..io import InputError
from ..prompts import prompt_settings, render_prompt
from .extract import extract_features, find_invalid_rows
from .spec import MAX_PPL
from .store import FeatureTable


def _responses(records: list[dict], generations: list[dict] | None):
    """[(record, text, sample)] for human answers or for generations (joined on id)."""
    if generations is None:
        return [(r, r["human_answer"], 0) for r in records]
    by_id = {r["id"]: r for r in records}
    rows = []
    for lineno, g in enumerate(generations, 1):
        if g.get("id") not in by_id:
            raise InputError(f"generations row {lineno}: id {g.get('id')!r} is not in the records")
        rows.append((by_id[g["id"]], g["answer"], int(g.get("sample", 0))))
    return rows


def compute_feature_table(
    records, generations, model, tokenizer, config: dict, batch_size: int = 16, max_ppl: float = MAX_PPL
) -> tuple[FeatureTable, dict]:
    rows = _responses(records, generations)
    texts = [t for _, t, _ in rows]
    langs = [r["language"] for r, _, _ in rows]
    invalid = dict(find_invalid_rows(texts, langs))
    if generations is None:
        # An empty human answer is legitimate (SQuAD v2's unanswerable questions are kept): an
        # invalid row, like an empty generation. Any other unfeaturisable human answer is an error.
        for i, reason in invalid.items():
            if texts[i].strip():
                raise InputError(f"human answer of record {rows[i][0]['id']} cannot be featurised: {reason}")
    keep = [i for i in range(len(rows)) if i not in invalid]
    pcfg = prompt_settings(config)
    prompts = [
        render_prompt(
            rows[i][0],
            tokenizer,
            style="plain",
            max_prompt_tokens=pcfg.max_prompt_tokens,
            max_history_turns=pcfg.max_history_turns,
        )
        for i in keep
    ]
    X_keep, names = extract_features(
        [texts[i] for i in keep],
        [langs[i] for i in keep],
        ids=[rows[i][0]["id"] for i in keep],
        prompts=prompts,
        model=model,
        tokenizer=tokenizer,
        batch_size=batch_size,
        max_ppl=max_ppl,
    )
    X = np.full((len(rows), len(names)), np.nan)
    X[keep] = X_keep
    valid = np.zeros(len(rows), dtype=bool)
    valid[keep] = True
    table = FeatureTable(
        ids=np.array([r["id"] for r, _, _ in rows], dtype=str),
        names=list(names),
        X=X,
        valid=valid,
        bucket_ids=np.array([r["bucket_id"] for r, _, _ in rows], dtype=str),
        languages=np.array(langs, dtype=str),
        samples=np.array([s for _, _, s in rows], dtype=np.int64),
    )
    report = {
        "rows": len(rows),
        "valid": int(valid.sum()),
        "features": len(names),
        "invalid": [
            {"id": rows[i][0]["id"], "sample": rows[i][2], "reason": reason}
            for i, reason in sorted(invalid.items())
        ],
    }
    return table, report


def feature_table_of_files(
    records_path, generations_path, model_path, settings: dict
) -> tuple[FeatureTable, dict]:
    """`compute_feature_table` of a records file and an optional generations file (None: the
    human answers) under the scoring model at `model_path`; `settings` holds the config blocks
    features, prompt and model (rules features and features_test)."""
    from ..io import read_jsonl
    from ..models.runtime import load_model_for_inference
    from ..models.settings import model_settings

    model, tokenizer = load_model_for_inference(model_path, model_settings(settings["model"]))
    gens = read_jsonl(generations_path) if generations_path else None
    fs = settings["features"]
    return compute_feature_table(
        read_jsonl(records_path), gens, model, tokenizer, settings, fs["batch_size"], fs["max_ppl"]
    )
