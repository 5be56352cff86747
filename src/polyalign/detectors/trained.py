"""The trained human-vs-model detector: a logistic regression on the response features φ(y).

Training data is the train split only: human train answers (label 0) against the train-prompt
samples of the supervised systems (label 1). `training_matrix` refuses any row whose id is not a
train-split id, so a validation or test answer cannot reach the fit. The train prompts are split
by a seeded hash of their id into a fitting part and a held-out part (a prompt's human answer and
its samples always fall on the same side); the held-out part gives the report, and the model
fitted on the fitting part is the one that scores validation and test responses.

The model is stored as JSON (feature names, standardisation, coefficients), not a pickle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

from ..config import block_defaults
from ..data.splits import hash_unit
from ..features.store import FeatureTable
from ..io import InputError
from ..metrics.detectors import detector_auroc

# Keyword defaults are the config schema's detectors.trained block (the one place they are written).
_TRAINED = block_defaults("detectors", "trained")


class LeakageError(InputError):
    """A response from outside the train split was offered to the trained detector's fit."""


def training_matrix(
    human: FeatureTable, samples: Mapping[str, FeatureTable], train_ids: Iterable[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(X, y, ids, feature names) of the valid rows; y = 1 for model samples.

    Raises LeakageError naming the first id that is not in `train_ids`."""
    allowed = set(train_ids)
    tables = [("human", human, 0)] + [(name, t, 1) for name, t in sorted(samples.items())]
    names = list(human.names)
    X, y, ids = [], [], []
    for source, table, label in tables:
        if list(table.names) != names:
            raise InputError(f"trained detector: features of {source} differ from the human ones")
        outside = [i for i in table.ids.tolist() if i not in allowed]
        if outside:
            raise LeakageError(
                f"trained detector: {len(outside)} {source} row(s) are not train-split "
                f"responses (first id {outside[0]!r}); it trains on the train split only"
            )
        keep = np.asarray(table.valid, dtype=bool)
        X.append(np.asarray(table.X, dtype=float)[keep])
        y.append(np.full(int(keep.sum()), label))
        ids.append(np.asarray(table.ids)[keep])
    return np.concatenate(X), np.concatenate(y), np.concatenate(ids), names


def holdout_mask(ids: Sequence[str], fraction: float, seed: int) -> np.ndarray:
    """True for rows whose prompt id hashes into the held-out share (grouped by prompt)."""
    return np.array([hash_unit(f"detector-holdout:{i}", seed) < fraction for i in ids], dtype=bool)


def fit_detector(
    X: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    *,
    C: float = _TRAINED["C"],
    max_iter: int = _TRAINED["max_iter"],
) -> dict:
    """Standardise (constant features get scale 1) and fit a class-balanced L2 logistic regression."""
    if len(set(y.tolist())) != 2:
        raise InputError("trained detector: the fitting data needs both human and model responses")
    with np.errstate(invalid="ignore"):
        mean = np.nan_to_num(np.nanmean(X, axis=0)) if X.size else np.zeros(X.shape[1])
        scale = np.nan_to_num(np.nanstd(X, axis=0))
    scale = np.where(scale > 1e-12, scale, 1.0)
    clf = LogisticRegression(C=C, max_iter=max_iter, class_weight="balanced")
    clf.fit(standardise({"mean": mean, "scale": scale}, X), y)
    return {
        "features": list(names),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coef": clf.coef_[0].tolist(),
        "intercept": float(clf.intercept_[0]),
    }


def standardise(model: Mapping, X: np.ndarray) -> np.ndarray:
    """(X - mean) / scale, with a feature that is out of scope for a response (NaN: e.g. letter
    case in Chinese, full-width punctuation in English) set to 0, the fitting data's mean."""
    return np.nan_to_num((X - np.asarray(model["mean"])) / np.asarray(model["scale"]), nan=0.0)


def detector_logits(model: Mapping, table: FeatureTable) -> np.ndarray:
    """Log-odds of 'model-written' per row (higher = more AI-like); NaN for invalid rows."""
    if list(table.names) != list(model["features"]):
        raise InputError("trained detector: the feature names of the scored table differ from training")
    out = (
        standardise(model, np.asarray(table.X, dtype=float)) @ np.asarray(model["coef"]) + model["intercept"]
    )
    return np.where(np.asarray(table.valid, dtype=bool), out, np.nan)


def classification_report(logits: np.ndarray, y: np.ndarray) -> dict:
    """Accuracy at log-odds 0, balanced accuracy and AUROC (model samples positive)."""
    pred = logits > 0
    pos, neg = y == 1, y == 0
    tpr = float(pred[pos].mean()) if pos.any() else float("nan")
    tnr = float((~pred[neg]).mean()) if neg.any() else float("nan")
    return {
        "n": int(y.size),
        "n_model": int(pos.sum()),
        "n_human": int(neg.sum()),
        "accuracy": float((pred == (y == 1)).mean()) if y.size else float("nan"),
        "balanced_accuracy": (tpr + tnr) / 2,
        "tpr": tpr,
        "tnr": tnr,
        "auroc": detector_auroc(logits[pos], logits[neg]) if pos.any() and neg.any() else float("nan"),
    }


def train_detector(
    human: FeatureTable,
    samples: Mapping[str, FeatureTable],
    train_ids: Iterable[str],
    seed: int,
    settings: Mapping | None = None,
) -> tuple[dict, dict]:
    """(model, report): fit on the fitting part of the train prompts, report on the held-out part."""
    from ..config import block_defaults

    cfg = {**block_defaults("detectors", "trained"), **(settings or {})}
    X, y, ids, names = training_matrix(human, samples, train_ids)
    held = holdout_mask(ids.tolist(), cfg["holdout_fraction"], seed)
    if held.all() or not held.any():
        raise InputError(f"trained detector: holdout_fraction {cfg['holdout_fraction']} leaves an empty part")
    model = fit_detector(X[~held], y[~held], names, C=cfg["C"], max_iter=cfg["max_iter"])
    logits = standardise(model, X) @ np.asarray(model["coef"]) + model["intercept"]
    langs = np.concatenate(
        [np.asarray(human.languages)[np.asarray(human.valid, bool)]]
        + [np.asarray(t.languages)[np.asarray(t.valid, bool)] for _, t in sorted(samples.items())]
    )
    report = {
        "settings": cfg,
        "sources": ["human_train", *sorted(samples)],
        "fit": classification_report(logits[~held], y[~held]),
        "held_out": classification_report(logits[held], y[held]),
        "held_out_per_language": {
            lg: classification_report(logits[held & (langs == lg)], y[held & (langs == lg)])
            for lg in sorted(set(langs.tolist()))
        },
        "n_train_prompts": len(set(ids.tolist())),
        "training_ids": sorted(set(ids[~held].tolist())),
        "held_out_ids": sorted(set(ids[held].tolist())),
    }
    return model, report
