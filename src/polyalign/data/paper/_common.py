"""Shared plumbing of the paper-corpus loaders: source resolution, strict column access, record
assembly and skip accounting.

Skip accounting: every loader counts the rows (or turns/answers) it drops, by reason, in
``source["_skipped"]`` (a ``collections.Counter``; reason -> count). The build step copies the
source dict before calling the loader and reports these counts in its log.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ...io import InputError, iter_jsonl
from ...text import is_blank

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_MISSING = object()


def is_local(path: str) -> bool:
    return os.path.isdir(path)


def check_path(path: str) -> None:
    """A source path is either an existing local directory or something shaped like a hub id."""
    if not is_local(path) and not _HUB_ID.match(path):
        raise InputError(f"{path}: no such directory, and not a Hugging Face hub id (owner/name)")


def require_dir(source: dict, key: str, how: str) -> str:
    """For corpora that are not on the hub: `path` must be a local directory."""
    path = source.get("path")
    if not path:
        raise InputError(f"corpora.{key}.path: not set; it must name a local directory holding {how}")
    path = str(path)
    if not is_local(path):
        raise InputError(f"{path}: no such directory (corpus '{key}' expects {how})")
    return path


def digest(*parts: str) -> str:
    """Short stable hash of a few text fields, for split keys."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def _datasets():
    import datasets

    return datasets


def _load(source: dict, label: str, args: tuple, kwargs: dict) -> Iterator[tuple[str, dict]]:
    if source.get("cache_dir"):
        kwargs["cache_dir"] = str(source["cache_dir"])
    if source.get("streaming"):
        kwargs["streaming"] = True
    try:
        ds = _datasets().load_dataset(*args, **kwargs)
    except Exception as e:  # datasets raises many types; name the source and keep the cause
        raise InputError(f"{label}: cannot load ({type(e).__name__}: {e})") from e
    try:
        for i, row in enumerate(ds):
            yield f"{label}:row {i}", row
    except Exception as e:  # only reachable when streaming
        raise InputError(f"{label}: cannot read ({type(e).__name__}: {e})") from e


def hf_rows(source: dict, default: str, split: str, name: str | None = None) -> Iterator[tuple[str, dict]]:
    """(where, row) of one split of a hub dataset repository (or its local copy), read with
    ``datasets.load_dataset(path, name=..., split=...)`` exactly as a networked user would."""
    path = str(source.get("path", default))
    check_path(path)
    kwargs: dict[str, Any] = {"split": split}
    if name:
        kwargs["name"] = name
    if source.get("revision") and not is_local(path):
        kwargs["revision"] = source["revision"]
    label = f"{path}[{name + '/' if name else ''}{split}]"
    yield from _load(source, label, (path,), kwargs)


def repo_file(path: str, rel: str, revision: str | None = None) -> str:
    """The path/URL of a raw file of a hub dataset repo for `data_files` (hf://, at `revision`)."""
    if is_local(path):
        return os.path.join(path, rel)
    return f"hf://datasets/{path}{'@' + revision if revision else ''}/{rel}"


def data_file_rows(
    source: dict, default: str, builder: str, rel: str, split: str = "train"
) -> Iterator[tuple[str, dict]]:
    """(where, row) of one raw data file of a hub repo whose loading script datasets 5.x no
    longer runs: ``load_dataset(builder, data_files={split: <file>})``. A JSON-lines file is
    read line by line here instead, so that a malformed row is reported with its line number
    (``datasets`` names neither file nor line)."""
    if builder == "json" and rel.endswith(".jsonl"):
        local = fetch_repo_file(source, default, rel)
        for _, (lineno, row) in enumerate(iter_jsonl(local)):
            yield f"{local}:{lineno}", row
        return
    path = str(source.get("path", default))
    check_path(path)
    url = repo_file(path, rel, source.get("revision"))
    kwargs: dict[str, Any] = {"data_files": {split: url}, "split": split}
    label = url
    yield from _load(source, label, (builder,), kwargs)


def fetch_repo_file(source: dict, default: str, rel: str) -> str:
    """Local filesystem path of a raw file of a hub dataset repo: the local copy's file, or the
    file downloaded into the Hugging Face cache with ``hf_hub_download``."""
    path = str(source.get("path", default))
    check_path(path)
    if is_local(path):
        local = os.path.join(path, rel)
        if not os.path.isfile(local):
            raise InputError(f"{local}: file not found (expected the layout of the hub repo {default})")
        return local
    from huggingface_hub import hf_hub_download

    try:
        return hf_hub_download(
            repo_id=path, filename=rel, repo_type="dataset", revision=source.get("revision")
        )
    except Exception as e:
        raise InputError(f"{path}/{rel}: cannot download ({type(e).__name__}: {e})") from e


def load_json_text(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}:{e.lineno}: malformed JSON ({e.msg})") from None


def col(row: dict, name: str, where: str, kind: type | tuple = str, default: Any = _MISSING) -> Any:
    """Strict column access: a missing/null column raises InputError naming the row, unless a
    default is given; a value of the wrong type always raises."""
    value = row.get(name) if isinstance(row, dict) else None
    if value is None:
        if default is not _MISSING:
            return default
        raise InputError(f"{where}: missing required column '{name}'")
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        expected = " or ".join(k.__name__ for k in kinds)
        raise InputError(f"{where}: column '{name}' should be {expected}, got {type(value).__name__}")
    return value


def as_rows(value: Any, where: str, name: str) -> list[dict]:
    """A nested sequence of records, whichever way it is stored: a list of dicts (raw JSON) or a
    dict of equal-length lists (how `datasets` returns a Sequence of dicts)."""
    if value is None:
        return []
    if isinstance(value, list):
        if not all(isinstance(v, dict) for v in value):
            raise InputError(f"{where}: column '{name}' should be a list of objects")
        return value
    if isinstance(value, dict):
        lists = {k: v for k, v in value.items() if v is not None}
        if not all(isinstance(v, list) for v in lists.values()):
            raise InputError(f"{where}: column '{name}' should be a dict of lists")
        lengths = {len(v) for v in lists.values()}
        if len(lengths) > 1:
            raise InputError(f"{where}: column '{name}' has lists of different lengths {sorted(lengths)}")
        n = lengths.pop() if lengths else 0
        return [{k: v[i] for k, v in lists.items()} for i in range(n)]
    raise InputError(
        f"{where}: column '{name}' should be a list or a dict of lists, got {type(value).__name__}"
    )


def first_text(values: Iterable[Any]) -> str:
    """First non-blank string of `values`, or ""."""
    for v in values:
        if isinstance(v, str) and not is_blank(v):
            return v
    return ""


def is_truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "t"}
    return False


def alternating_history(prior: list[str]) -> list[dict]:
    """Roles of the turns before the question, relative to the responder: the question (the turn
    right before the answer) is the user's, so the turn before it is the assistant's, and so on."""
    n = len(prior)
    return [
        {"role": "user" if (n - j) % 2 == 0 else "assistant", "text": text} for j, text in enumerate(prior)
    ]


@dataclass(frozen=True)
class Corpus:
    key: str
    language: str
    family: str
    situation: str


class Emitter:
    """Builds the raw records of one loader call; counts skips in source["_skipped"] and drops a
    second row with an already-used source_id (counted as duplicate_source_id)."""

    def __init__(self, corpus: Corpus, source: dict):
        self.corpus = corpus
        self.skipped: Counter = source.setdefault("_skipped", Counter())
        self.seen: set[str] = set()
        self.known_bad = tuple(source.get("known_bad_rows", ()))

    def is_known_bad(self, where: str) -> bool:
        """A source row listed (by a suffix of its `where`) in the config's known_bad_rows is
        skipped before it is read, and counted; any other broken row raises InputError."""
        if any(where.endswith(row) for row in self.known_bad):
            self.skip("known_bad_rows")
            return True
        return False

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def record(
        self,
        *,
        question: str,
        answer: str,
        source_id: str,
        split_key: str,
        source_split: str | None,
        where: str,
        meta: dict,
        context: str = "",
        history: list[dict] | None = None,
    ) -> dict | None:
        if source_id in self.seen:
            self.skip("duplicate_source_id")
            return None
        if is_blank(question):
            self.skip("blank_question")  # whitespace or zero-width characters only
            return None
        if is_blank(answer) and not meta.get("unanswerable", False):
            self.skip("blank_answer")
            return None
        self.seen.add(source_id)
        c = self.corpus
        return {
            "dataset": c.key,
            "language": c.language,
            "family": c.family,
            "situation": c.situation,
            "question": question,
            "context": context,
            "history": list(history or []),
            "human_answer": answer,
            "source_split": source_split,
            "split_key": f"{c.key}:{split_key}",
            "where": where,
            "meta": {"source_id": source_id, **meta},
        }
