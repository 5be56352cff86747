"""Every corpus loader, registered by importing its module, and the lookup by corpus key.

Plain import statements, not a table of module names for importlib: the rerun trigger
(polyalign.provenance) sees them, so editing a loader reruns the corpus build.
"""

from __future__ import annotations

from . import embedded, paper  # noqa: F401  (registration)
from .registry import REGISTRY, CorpusSpec


def get_corpus(key: str) -> CorpusSpec:
    if key not in REGISTRY:
        raise KeyError(f"unknown corpus '{key}' (known: {sorted(REGISTRY)})")
    return REGISTRY[key]
