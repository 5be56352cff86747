"""Export of a blind rating sheet: a stratified sample of test prompts per language, every
system's output for one seed, shuffled and blinded, the unblinding key in a separate file, and
a self-contained rating page (no server, no CDN: it works from file://)."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import numpy as np

from ..prompts import LENGTH_BINS
from . import CRITERIA


def stratified_prompts(records: list[dict], n_prompts: int, seed: int) -> list[dict]:
    """n_prompts records, as even as possible over the length bins (n/4 each by default; a bin
    with too few records gives its share to the others), seeded and in a stable order."""
    rng = np.random.default_rng(seed)
    by_bin = {
        b: sorted((r for r in records if r["length_bin"] == b), key=lambda r: r["id"]) for b in LENGTH_BINS
    }
    for b in LENGTH_BINS:
        order = rng.permutation(len(by_bin[b]))
        by_bin[b] = [by_bin[b][i] for i in order]
    if n_prompts > sum(len(v) for v in by_bin.values()):
        raise ValueError(
            f"human evaluation: {n_prompts} prompts requested, only "
            f"{sum(len(v) for v in by_bin.values())} test records"
        )
    taken = {b: 0 for b in LENGTH_BINS}
    while sum(taken.values()) < n_prompts:  # round-robin over bins that still have records
        for b in LENGTH_BINS:
            if taken[b] < len(by_bin[b]) and sum(taken.values()) < n_prompts:
                taken[b] += 1
    return [r for b in LENGTH_BINS for r in by_bin[b][: taken[b]]]


def blind_items(prompts: list[dict], outputs: dict[str, dict[str, str]], sheet_id: str, seed: int):
    """(items, key): one item per (prompt, system), shuffled; items carry only a blind id."""
    pairs = [(r, s) for r in prompts for s in outputs]
    for r, s in pairs:
        if r["id"] not in outputs[s]:
            raise ValueError(f"human evaluation: system {s} has no output for test record {r['id']}")
    order = np.random.default_rng(seed).permutation(len(pairs))
    items, key = [], {}
    for k, i in enumerate(order):
        record, system = pairs[i]
        item_id = f"{sheet_id}-{k + 1:04d}"
        items.append(
            {
                "item": item_id,
                "language": record["language"],
                "track": record["track"],
                "history": record.get("history", []),
                "context": record.get("context", ""),
                "prompt": record["question"],
                "response": outputs[system][record["id"]],
            }
        )
        key[item_id] = {"system": system, "record": record["id"]}
    return items, key


def sheet_id_for(
    language: str, seed: int, model_seed, prompts: list[dict], outputs: dict[str, dict[str, str]]
) -> str:
    """The sheet's identity: language, sampling seed, run seed, the systems in their configured
    order (it decides which blind item is which system), the prompts, and a hash of every text
    shown. Reordered systems or regenerated outputs give another id, so an old ratings file is
    refused and the page does not restore old scores onto new texts."""
    shown = hashlib.sha256()
    for record in prompts:
        shown.update(
            json.dumps([record.get("history", []), record.get("context", ""), record["question"]]).encode()
        )
        for system in outputs:
            shown.update(json.dumps([system, outputs[system].get(record["id"])]).encode())
    identity = [language, seed, model_seed, list(outputs), [r["id"] for r in prompts], shown.hexdigest()]
    digest = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:12]
    return f"{language}-{digest}"


def render_page(sheet: dict) -> str:
    """The rating page with the sheet embedded as JSON. Every `<`, `>` and `&` is written as a
    JSON escape, so no text can end the script or open an HTML comment inside it (`<!--<script>`
    without `-->` would swallow the rest of the page)."""
    template = (
        resources.files("polyalign.human_eval").joinpath("rating_page.html").read_text(encoding="utf-8")
    )
    payload = (
        json.dumps(sheet, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    if "__SHEET_JSON__" not in template:
        raise RuntimeError("rating_page.html lacks the __SHEET_JSON__ placeholder")
    return template.replace("__SHEET_JSON__", payload)


def build_sheet(
    records: list[dict],
    outputs: dict[str, dict[str, str]],
    language: str,
    *,
    n_prompts: int,
    seed: int,
    export_seed,
) -> tuple[dict, dict]:
    """(sheet, key) for one language. `outputs` maps system -> {record id: answer text}."""
    pool = [r for r in records if r["language"] == language]
    prompts = stratified_prompts(pool, n_prompts, seed)
    sheet_id = sheet_id_for(language, seed, export_seed, prompts, outputs)
    items, key = blind_items(prompts, outputs, sheet_id, seed)
    sheet = {"sheet": sheet_id, "language": language, "criteria": list(CRITERIA), "items": items}
    return sheet, {
        "sheet": sheet_id,
        "language": language,
        "model_seed": export_seed,
        "systems": sorted(outputs),
        "prompts": [r["id"] for r in prompts],
        "items": key,
    }
