"""Loading and aligning the inputs of one system's evaluation to the test prompts.

Every system is evaluated on the same full test split: a test id without a generation (or
without a feature / embedding row) is an error, and so is an id that is not in the test split.
Prompts are put in the canonical order of their ids, so the bootstrap draws of two systems index
the same prompts (paired resampling).
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from polyalign.io import InputError

_LISTED = 5


@dataclass(frozen=True)
class FeatureArrays:
    """φ(y) of a response set as this stage uses it: ids [n], names [F], X [n, F] (NaN = out of
    scope), valid [n] (False: the response could not be featurised, e.g. empty), samples."""
    ids: list[str]
    names: list[str]
    X: np.ndarray
    valid: np.ndarray
    samples: np.ndarray | None = None


@dataclass(frozen=True)
class EmbeddingTable:
    """Encoder embeddings of a set of responses: ids [n], E float [n, d], optional samples."""
    ids: list[str]
    E: np.ndarray
    samples: np.ndarray | None = None


def _str_list(values) -> list[str]:
    return [str(v) for v in np.asarray(values).tolist()]


def load_embedding_table(path) -> EmbeddingTable:
    """Read an `.npz` with arrays ids, E (and optionally samples)."""
    with np.load(path, allow_pickle=False) as z:
        missing = [k for k in ("ids", "E") if k not in z.files]
        if missing:
            raise InputError(f"{path}: missing array(s) {missing} (has {z.files})")
        table = EmbeddingTable(_str_list(z["ids"]), np.asarray(z["E"], dtype=np.float64),
                               np.asarray(z["samples"]) if "samples" in z.files else None)
    if table.E.ndim != 2 or table.E.shape[0] != len(table.ids):
        raise InputError(f"{path}: E has shape {table.E.shape} for {len(table.ids)} ids")
    return table


def _field(obj, name, default=None):
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def as_feature_arrays(obj) -> FeatureArrays:
    """From a `polyalign.features.store.FeatureTable` (or any object / mapping with ids, names,
    X and optionally valid, samples); without `valid` every row with a finite value is valid."""
    X = np.asarray(_field(obj, "X"), dtype=np.float64)
    ids, names = _str_list(_field(obj, "ids")), _str_list(_field(obj, "names"))
    if X.shape != (len(ids), len(names)):
        raise InputError(f"feature matrix has shape {X.shape}, expected ({len(ids)}, {len(names)})")
    valid = _field(obj, "valid")
    valid = (np.isfinite(X).any(axis=1) if valid is None else np.asarray(valid, dtype=bool))
    samples = _field(obj, "samples")
    return FeatureArrays(ids, names, X, valid, None if samples is None else np.asarray(samples))


def as_embedding_table(obj) -> EmbeddingTable | None:
    if obj is None or isinstance(obj, EmbeddingTable):
        return obj
    if isinstance(obj, Mapping):
        samples = obj.get("samples")
        return EmbeddingTable(_str_list(obj["ids"]), np.asarray(obj["E"], dtype=np.float64),
                              None if samples is None else np.asarray(samples))
    raise TypeError(f"expected an EmbeddingTable or a mapping with ids/E, got {type(obj).__name__}")


def _listed(items: Sequence[str]) -> str:
    items = sorted(items)
    more = f" (and {len(items) - _LISTED} more)" if len(items) > _LISTED else ""
    return ", ".join(map(repr, items[:_LISTED])) + more


def check_id_sets(wanted: Sequence[str], present: Sequence[str], what: str) -> None:
    """Raise InputError when `present` lacks a wanted id, has an extra one or repeats one."""
    dup = [i for i, k in Counter(present).items() if k > 1]
    if dup:
        raise InputError(f"{what}: {len(dup)} id(s) occur more than once: {_listed(dup)}")
    missing = set(wanted) - set(present)
    if missing:
        raise InputError(f"{what}: {len(missing)} test id(s) missing (every system is evaluated "
                         f"on the same full test split): {_listed(missing)}")
    extra = set(present) - set(wanted)
    if extra:
        raise InputError(f"{what}: {len(extra)} id(s) not in the test split: {_listed(extra)}")


def _sample_mask(samples: np.ndarray | None, n: int, sample_index: int, what: str) -> np.ndarray:
    if samples is None:
        if sample_index != 0:
            raise InputError(f"{what}: sample_index {sample_index} requested but the rows carry "
                             "no sample numbers")
        return np.ones(n, dtype=bool)
    return np.asarray(samples).astype(int) == sample_index


def select_generations(ids: Sequence[str], generations: Sequence[dict], sample_index: int = 0,
                       what: str = "generations") -> list[dict]:
    """The generation row of every test id (in the order of `ids`) for sample `sample_index`."""
    rows = []
    for k, g in enumerate(generations):
        if "id" not in g or not isinstance(g.get("answer"), str):
            raise InputError(f"{what}: row {k} lacks an 'id' or a string 'answer'")
        if int(g.get("sample", 0)) == sample_index:
            rows.append(g)
    check_id_sets(ids, [str(g["id"]) for g in rows], what)
    by_id = {str(g["id"]): g for g in rows}
    return [by_id[i] for i in ids]


def table_rows(ids: Sequence[str], table_ids: Sequence[str], samples: np.ndarray | None,
               sample_index: int, what: str) -> np.ndarray:
    """Row index into a feature/embedding table for every id of `ids`."""
    keep = np.flatnonzero(_sample_mask(samples, len(table_ids), sample_index, what))
    kept_ids = [table_ids[k] for k in keep]
    check_id_sets(ids, kept_ids, what)
    pos = {i: int(keep[j]) for j, i in enumerate(kept_ids)}
    return np.array([pos[i] for i in ids], dtype=int)


def prompt_fingerprint(ids: Sequence[str], languages: Sequence[str]) -> str:
    """SHA-1 of the canonical prompt order: paired bootstrap needs equal fingerprints."""
    text = "\n".join(f"{i}\t{lang}" for i, lang in zip(ids, languages))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
