"""The published PolyAlign numbers (report/published_numbers.yaml) and lookups into them."""
from __future__ import annotations

from pathlib import Path

import yaml

from ..io import InputError

PUBLISHED_PATH = Path(__file__).with_name("published_numbers.yaml")
# Display names of the systems, in the order of the paper's tables.
SYSTEM_LABELS = {
    "base": "BaseLM", "cot": "CoT", "sft": "SFT", "bucket_sft": "Bucket-SFT", "dpo": "DPO",
    "hdpo": "HDPO",
}
PAPER_LABELS = {"base": "BaseLM", "sft": "Full-SFT", "dpo": "DPO", "bucket_sft": "Bucket-SFT",
                "hdpo": "HDPO"}
_REQUIRED = ("paper", "table2_aggregate", "table2_distributional", "hdpo_caveat",
             "table8_human_eval", "claims")


def system_label(system: str) -> str:
    """Display name; unknown systems (e.g. oracle rows) keep their name, marked as given."""
    if system in SYSTEM_LABELS:
        return SYSTEM_LABELS[system]
    if system.endswith("_gold"):
        return f"{system_label(system[:-5])} (oracle: gold length)"
    return system


def load_published(path=PUBLISHED_PATH) -> dict:
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    missing = [k for k in _REQUIRED if k not in (doc or {})]
    if missing:
        raise InputError(f"{path}: missing section(s) {missing}")
    return doc


def published_aggregate(published: dict, model: str, system: str, language: str) -> float | None:
    row = published["table2_aggregate"]["models"].get(model, {}).get(system)
    return None if row is None else row.get(language)


def published_distributional(published: dict, system: str, language: str) -> dict:
    """{bng_macro, g_mauve, nuf} of the published distributional model's row, or {}."""
    return published["table2_distributional"]["systems"].get(system, {}).get(language, {})


def clean_aggregate(published: dict, model: str, language: str) -> float | None:
    return published["hdpo_caveat"]["clean_aggregate"].get(model, {}).get(language)
