"""Aggregation of returned ratings (Table 8): strict validation against the unblinding key,
means per system and criterion with a bootstrap over raters and prompts, and Krippendorff's
alpha (ordinal) between raters."""

from __future__ import annotations

import json
from pathlib import Path

import krippendorff
import numpy as np

from ..io import InputError
from . import CRITERIA, SCORES


def read_ratings_file(path, key: dict) -> dict:
    """One rater's complete, valid ratings of the sheet `key` describes; anything malformed or
    partial raises InputError naming the file and the item."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a JSON ratings file ({exc})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object with sheet, rater and ratings")
    for field in ("sheet", "rater", "ratings"):
        if field not in data:
            raise InputError(f"{path}: missing field {field!r}")
    if data["sheet"] != key["sheet"]:
        raise InputError(
            f"{path}: ratings for sheet {data['sheet']!r}, but the key is for sheet {key['sheet']!r}"
        )
    if not isinstance(data["rater"], str) or not data["rater"].strip():
        raise InputError(f"{path}: field 'rater' must be a non-empty string")
    ratings = data["ratings"]
    if not isinstance(ratings, dict):
        raise InputError(f"{path}: field 'ratings' must map item ids to criterion scores")
    unknown = sorted(set(ratings) - set(key["items"]))
    if unknown:
        raise InputError(f"{path}: item {unknown[0]!r} is not on sheet {key['sheet']}")
    for item in key["items"]:
        scores = ratings.get(item)
        if not isinstance(scores, dict):
            raise InputError(f"{path}: item {item!r} is not rated (partial ratings file)")
        for c in CRITERIA:
            if c not in scores:
                raise InputError(f"{path}: item {item!r} has no score for criterion {c!r}")
            if type(scores[c]) is not int or scores[c] not in SCORES:
                raise InputError(
                    f"{path}: item {item!r}, criterion {c!r}: score must be an integer 1-5, got {scores[c]!r}"
                )
        extra = sorted(set(scores) - set(CRITERIA))
        if extra:
            raise InputError(f"{path}: item {item!r} has unknown criterion {extra[0]!r}")
    return {"rater": data["rater"].strip(), "ratings": ratings, "file": str(path)}


def rating_cube(files: list[dict], key: dict) -> tuple[np.ndarray, list[str], list[str], list[str]]:
    """Scores [raters, systems, prompts, criteria] (float) and the three label lists."""
    raters = [f["rater"] for f in files]
    if len(set(raters)) != len(raters):
        raise InputError(f"sheet {key['sheet']}: rater ids repeat across files: {sorted(raters)}")
    systems, prompts = list(key["systems"]), list(key["prompts"])
    cube = np.full((len(files), len(systems), len(prompts), len(CRITERIA)), np.nan)
    for r, f in enumerate(files):
        for item, target in key["items"].items():
            s, p = systems.index(target["system"]), prompts.index(target["record"])
            cube[r, s, p] = [f["ratings"][item][c] for c in CRITERIA]
    return cube, raters, systems, prompts


def bootstrap_means(cube: np.ndarray, *, n_resamples: int, seed: int, alpha: float = 0.05) -> dict:
    """Per system: criterion means and the mean over criteria, each with a two-level bootstrap
    interval (raters, then prompts, drawn with replacement; the same draws for every system)."""
    n_raters, n_systems, n_prompts, _ = cube.shape
    rng = np.random.default_rng(seed)
    r_draw = rng.integers(0, n_raters, size=(n_resamples, n_raters))
    p_draw = rng.integers(0, n_prompts, size=(n_resamples, n_prompts))
    per_criterion = cube.mean(axis=(0, 2))  # [systems, criteria]
    boots = np.stack([cube[r_draw[b]][:, :, p_draw[b]].mean(axis=(0, 2)) for b in range(n_resamples)])
    lo, hi = alpha / 2, 1 - alpha / 2
    out = {}
    for s in range(n_systems):
        entry = {}
        for k, c in enumerate(CRITERIA):
            q = np.quantile(boots[:, s, k], [lo, hi])
            entry[c] = {"point": float(per_criterion[s, k]), "low": float(q[0]), "high": float(q[1])}
        q = np.quantile(boots[:, s].mean(axis=-1), [lo, hi])
        entry["mean"] = {"point": float(per_criterion[s].mean()), "low": float(q[0]), "high": float(q[1])}
        out[s] = entry
    return out


def ordinal_alpha(cube: np.ndarray) -> dict:
    """Krippendorff's alpha (ordinal) between raters, per criterion and over all criteria; units
    are (system, prompt) cells (and criterion, for the overall value). None with one rater."""
    if cube.shape[0] < 2:
        return {c: None for c in (*CRITERIA, "all")}
    result = {}
    for k, c in enumerate(CRITERIA):
        data = cube[:, :, :, k].reshape(cube.shape[0], -1)
        result[c] = float(
            krippendorff.alpha(
                reliability_data=data, level_of_measurement="ordinal", value_domain=list(SCORES)
            )
        )
    flat = cube.reshape(cube.shape[0], -1)
    result["all"] = float(
        krippendorff.alpha(reliability_data=flat, level_of_measurement="ordinal", value_domain=list(SCORES))
    )
    return result


def summarize_sheet(key: dict, rating_paths: list, *, n_resamples: int, seed: int) -> dict | None:
    """Everything Table 8 shows for one sheet, or None when no ratings were returned."""
    if not rating_paths:
        return None
    files = [read_ratings_file(p, key) for p in sorted(rating_paths)]
    cube, raters, systems, prompts = rating_cube(files, key)
    means = bootstrap_means(cube, n_resamples=n_resamples, seed=seed)
    return {
        "sheet": key["sheet"],
        "language": key["language"],
        "raters": raters,
        "n_prompts": len(prompts),
        "files": [f["file"] for f in files],
        "n_resamples": n_resamples,
        "systems": {systems[s]: v for s, v in means.items()},
        "krippendorff_alpha_ordinal": ordinal_alpha(cube),
    }
