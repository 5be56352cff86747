import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


def make_raw(**overrides) -> dict:
    """A valid raw record (the loader output schema) with fields overridable by keyword."""
    raw = {
        "dataset": "toy", "language": "en", "family": "dialogue", "situation": "open_chat",
        "question": "How are you?", "context": "", "history": [], "human_answer": "Fine, thanks.",
        "source_split": None, "split_key": "toy:1", "where": "toy.jsonl:1",
        "meta": {"source_id": "1"},
    }
    raw.update(overrides)
    return raw
