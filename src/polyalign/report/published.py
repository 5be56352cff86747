"""The published PolyAlign numbers (report/published_numbers.yaml) and lookups into them."""

from __future__ import annotations

from pathlib import Path

import yaml

from ..io import InputError
from ..systems import PAPER_SYSTEMS, label, published_label

PUBLISHED_PATH = Path(__file__).with_name("published_numbers.yaml")
# The paper's names of the systems (Table 8 rows); display names come from the systems registry.
PAPER_LABELS = {name: published_label(name) for name in PAPER_SYSTEMS}
_REQUIRED = (
    "paper",
    "table2_aggregate",
    "table2_distributional",
    "hdpo_caveat",
    "table8_human_eval",
    "claims",
)


def system_label(system: str) -> str:
    """Display name of a system (the systems registry); unknown names are shown as given."""
    return label(system)


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
