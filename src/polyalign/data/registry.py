"""The registry every corpus loader registers itself in (`polyalign.data.loaders` imports them
all and looks a corpus up).

A loader is a function `load(source: dict) -> Iterator[dict]` yielding raw records (see
`polyalign.records`). `source` is the corpus' entry under `corpora:` in the config; its `path`
is a local directory/file or, for Hugging Face sources, a hub id that `datasets` resolves (a
local copy of the hub repository works through the same call).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

Loader = Callable[[dict], Iterator[dict]]


@dataclass(frozen=True)
class CorpusSpec:
    key: str
    load: Loader
    # Hash-split weights for rows without an official split; None when every row has one.
    split_weights: dict | None = field(default=None)
    description: str = ""


REGISTRY: dict[str, CorpusSpec] = {}


def register(key: str, split_weights: dict | None = None, description: str = ""):
    def wrap(fn: Loader) -> Loader:
        if key in REGISTRY:
            raise ValueError(f"corpus '{key}' registered twice")
        REGISTRY[key] = CorpusSpec(key, fn, split_weights, description)
        return fn

    return wrap
