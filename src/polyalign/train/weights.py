"""Example weights of Bucket-Aware SFT (docs/method.md §4) and pair weights of HDPO (docs/method.md §6).

Pure NumPy functions of the training-set labels: no torch, no I/O. The trainer turns the
returned arrays into tensors (or into sampling probabilities p_i ∝ w_i for the weighted-sampler
variant of Bucket-SFT).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

import numpy as np

from ..config import block_defaults, schema_default

# Keyword defaults are the config schema's (the one place they are written).
_BUCKET_SFT = block_defaults("bucket_sft")
_PAIR_WEIGHTS = block_defaults("preference", "pair_weights")
_LANGUAGE_BALANCE = schema_default("preference", "language_balance")

__all__ = [
    "backoff_units",
    "bucket_weights",
    "cap_and_renormalize",
    "inverse_frequency_gain",
    "loss_mass_shares",
    "pair_weights",
    "rescale_pair_weights",
]


def _counts(labels: Sequence[Hashable], what: str) -> tuple[list, Counter]:
    labels = list(labels)
    if not labels:
        raise ValueError(f"{what}: empty input (need at least one training example)")
    return labels, Counter(labels)


def cap_and_renormalize(weights: np.ndarray, cap: float) -> np.ndarray:
    """Cap positive weights of mean 1 at `cap` and rescale the uncapped ones so the mean stays 1.

    This is the fixed point of "cap, renormalize to mean 1, repeat" (water-filling), computed
    exactly: the result is w'_i = min(s · w_i, cap) with the unique s ≥ 1 that gives mean(w') = 1.
    A single cap-then-renormalize pass would push the capped weights back above the cap, so it
    would satisfy only one of the two invariants (mean 1, max ≤ cap); this satisfies both.
    Requires cap ≥ 1 (a mean-1 vector cannot have every entry below 1).
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise ValueError("cap_and_renormalize: expected a non-empty 1-D array")
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError("cap_and_renormalize: weights must be finite and > 0")
    if not np.isfinite(cap) or cap < 1.0:
        raise ValueError(f"cap must be >= 1 so that the mean-1 invariant can hold, got {cap}")
    n = w.size
    w = w * (n / w.sum())  # make the mean exactly 1 before capping
    if w.max() <= cap:
        return w
    order = np.argsort(-w, kind="stable")
    ws = w[order]
    suffix = np.cumsum(ws[::-1])[::-1]  # suffix[k] = sum of ws[k:]
    for k in range(n):  # k = number of capped (largest) entries
        s = (n - k * cap) / suffix[k]
        if s * ws[k] <= cap * (1 + 1e-12):
            out = np.empty(n)
            out[order[:k]] = cap
            out[order[k:]] = s * ws[k:]
            return out
    return np.full(n, cap)  # unreachable for cap >= 1 (k = n-1 always qualifies)


def backoff_units(
    bucket_ids: Sequence[Hashable], parent_ids: Sequence[Sequence[Hashable]] | None = None, min_size: int = 1
) -> tuple[list, np.ndarray]:
    """(weighting unit, unit size) per example, for Bucket-SFT's back-off (docs/method.md §4).

    A bucket with at least `min_size` examples is its own unit. An example of a smaller bucket
    backs off to its first ancestor in `parent_ids[i]` (nearest first, e.g. (language, track,
    family), then language) whose *whole* group, all its buckets together, has at least
    `min_size` examples; the unit's size is that group's count, so such an example weighs as
    much as a typical example of the ancestor. When no ancestor is large enough, the unit is the
    whole training set (size N). `parent_ids=None` or `min_size <= 1`: every bucket is its own
    unit (the paper's weights).
    """
    ids, counts = _counts(bucket_ids, "backoff_units")
    n = len(ids)
    if parent_ids is None or min_size <= 1:
        return ids, np.array([counts[b] for b in ids], dtype=np.float64)
    parents = [tuple(p) for p in parent_ids]
    if len(parents) != n:
        raise ValueError(f"backoff_units: {n} bucket ids but {len(parents)} parent tuples")
    depth = {len(p) for p in parents}
    if len(depth) != 1:
        raise ValueError(
            f"backoff_units: every example needs the same number of ancestors, got {sorted(depth)}"
        )
    level_counts = [Counter(p[k] for p in parents) for k in range(depth.pop())]
    units, sizes = [], np.empty(n)
    for i, (b, anc) in enumerate(zip(ids, parents)):
        if counts[b] >= min_size:
            units.append(b)
            sizes[i] = counts[b]
            continue
        for level, a in enumerate(anc):
            if level_counts[level][a] >= min_size:
                units.append(("backoff", a))
                sizes[i] = level_counts[level][a]
                break
        else:
            units.append(("backoff", "all"))
            sizes[i] = n
    return units, sizes


def bucket_weights(
    bucket_ids: Sequence[Hashable],
    tau: float = _BUCKET_SFT["tau"],
    cap: float | None = _BUCKET_SFT["cap"],
    parent_ids: Sequence[Sequence[Hashable]] | None = None,
    min_size: int = 1,
) -> np.ndarray:
    """Per-example Bucket-SFT weights w_i ∝ n_u(i)^(−τ), rescaled to mean 1 (docs/method.md §4), where
    n_u(i) is the size of example i's weighting unit (`backoff_units`: its bucket, or for a
    bucket under `min_size` the ancestor group it backs off to).

    Without back-off, with N examples in B buckets, w_i = N · n_b(i)^(−τ) / Σ_b n_b^(1−τ); at
    τ = 1 this is N / (B · n_b(i)), so every bucket carries the same total weight N/B; at τ = 0 all
    weights are 1 (plain SFT). `cap` (≥ 1, optional) limits the largest weight; the capped vector
    is re-normalized to mean 1 exactly (see `cap_and_renormalize`: iterated to the fixed point,
    not one pass).

    Returns float64 weights aligned with `bucket_ids`.
    """
    if not (0.0 <= float(tau) <= 1.0):
        raise ValueError(f"tau must lie in [0, 1], got {tau}")
    if cap is not None and (not np.isfinite(cap) or cap < 1.0):
        raise ValueError(f"cap must be >= 1 (weights have mean 1), got {cap}")
    _, sizes = backoff_units(bucket_ids, parent_ids, min_size)
    raw = sizes ** (-float(tau))
    w = raw * (len(raw) / raw.sum())
    if cap is not None:
        w = cap_and_renormalize(w, cap)
    return w


def size_class(n: int, min_size: int) -> str:
    """Bucket size classes of the loss-mass report: under min_size, then ×5 steps."""
    edges = [min_size, 5 * min_size, 25 * min_size]
    if n < edges[0]:
        return f"<{edges[0]}"
    for lo, hi in zip(edges, edges[1:]):
        if n < hi:
            return f"{lo}-{hi - 1}"
    return f">={edges[-1]}"


def loss_mass_shares(
    weights, languages: Sequence[Hashable], bucket_ids: Sequence[Hashable], min_size: int
) -> dict:
    """Share of the total loss weight Σw per language and per bucket-size class (bucket sizes
    counted over the given examples), with the example shares beside them for comparison."""
    w = np.asarray(weights, dtype=np.float64)
    ids = list(bucket_ids)
    if not (len(w) == len(ids) == len(languages)) or len(w) == 0:
        raise ValueError("loss_mass_shares: weights, languages and bucket ids must be non-empty and aligned")
    counts = Counter(ids)
    total = w.sum()
    out = {}
    for name, keys in (
        ("by_language", list(languages)),
        ("by_bucket_size", [size_class(counts[b], min_size) for b in ids]),
    ):
        groups = sorted(set(keys))
        out[name] = {
            g: {
                "loss_mass": float(sum(wi for wi, k in zip(w, keys) if k == g) / total),
                "examples": sum(k == g for k in keys) / len(keys),
            }
            for g in groups
        }
    out["max_weight"] = float(w.max())
    return out


def inverse_frequency_gain(labels: Sequence[Hashable]) -> np.ndarray:
    """g for each item: raw_k = max(0, N/(K n_k) − 1) over the K distinct labels, g = raw / max raw.

    Labels rarer than the uniform share N/K get g in (0, 1] (the rarest gets 1); labels at or above
    the uniform share get 0. If every raw value is 0 (balanced labels) all gains are 0.
    """
    ids, counts = _counts(labels, "inverse_frequency_gain")
    n, k = len(ids), len(counts)
    raw = {lab: max(0.0, n / (k * c) - 1.0) for lab, c in counts.items()}
    top = max(raw.values())
    if top <= 0.0:
        return np.zeros(n)
    return np.array([raw[lab] / top for lab in ids], dtype=np.float64)


def _scores(x, name: str, n: int) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},), got {a.shape}")
    if np.isnan(a).any():
        bad = np.flatnonzero(np.isnan(a))[:10].tolist()
        raise ValueError(f"{name}: NaN critic score(s) at pair index {bad}")
    if not np.all(np.isfinite(a)):
        bad = np.flatnonzero(~np.isfinite(a))[:10].tolist()
        raise ValueError(f"{name}: non-finite critic score(s) at pair index {bad}")
    return a


def pair_weights(
    bucket_ids: Sequence[Hashable],
    languages: Sequence[Hashable],
    s_pos=None,
    s_neg=None,
    alpha: float = _PAIR_WEIGHTS["alpha"],
    beta_w: float = _PAIR_WEIGHTS["beta_w"],
    gamma: float = _PAIR_WEIGHTS["gamma"],
    w_min: float = _PAIR_WEIGHTS["w_min"],
    w_max: float = _PAIR_WEIGHTS["w_max"],
    use_bucket: bool = _PAIR_WEIGHTS["use_bucket"],
    use_critic: bool = _PAIR_WEIGHTS["use_critic"],
    use_language: bool = _PAIR_WEIGHTS["use_language"],
) -> np.ndarray:
    """HDPO pair weights (docs/method.md §6), computed over the whole set of training pairs:

        w = clip(1 + α·g_b + β_w·max(0, s⁻ − s⁺) + γ·g_lang, w_min, w_max)

    g_b = `inverse_frequency_gain(bucket_ids)`, g_lang = `inverse_frequency_gain(languages)`;
    s⁺ / s⁻ are the critic scores of the chosen / rejected responses (lower = more human-like).
    `use_bucket`, `use_critic`, `use_language` switch the three terms off (ablations); with
    `use_critic=False` the scores may be None. NaN scores raise ValueError whenever given.
    """
    ids = list(bucket_ids)
    langs = list(languages)
    if not ids:
        raise ValueError("pair_weights: empty input (need at least one training pair)")
    n = len(ids)
    if len(langs) != n:
        raise ValueError(f"pair_weights: {n} bucket ids but {len(langs)} languages")
    if not (np.isfinite(w_min) and np.isfinite(w_max)) or w_min > w_max:
        raise ValueError(f"pair_weights: need finite w_min <= w_max, got [{w_min}, {w_max}]")
    for name, v in (("alpha", alpha), ("beta_w", beta_w), ("gamma", gamma)):
        if not np.isfinite(v):
            raise ValueError(f"pair_weights: {name} must be finite, got {v}")

    pos = None if s_pos is None else _scores(s_pos, "s_pos", n)
    neg = None if s_neg is None else _scores(s_neg, "s_neg", n)

    w = np.ones(n, dtype=np.float64)
    if use_bucket:
        w += alpha * inverse_frequency_gain(ids)
    if use_critic:
        if pos is None or neg is None:
            raise ValueError("pair_weights: use_critic=True needs both s_pos and s_neg")
        w += beta_w * np.maximum(0.0, neg - pos)
    if use_language:
        w += gamma * inverse_frequency_gain(langs)
    return np.clip(w, w_min, w_max)


def rescale_pair_weights(
    weights, languages: Sequence[Hashable], language_balance: bool = _LANGUAGE_BALANCE
) -> np.ndarray:
    """Clipped pair weights → the weights the loss uses, with mean 1 over the pair set (docs/method.md §6),
    so that HDPO and DPO take steps of the same size and differ only in where the mass goes.

    language_balance=False: w · N / Σw. language_balance=True: every language carries the same
    total weight N/L (L languages), its pairs keeping their relative weights:
    w_i · (N/L) / Σ_{j in lang(i)} w_j. Either way Σw = N.
    """
    w = np.asarray(weights, dtype=np.float64)
    langs = list(languages)
    if w.ndim != 1 or w.size == 0 or len(langs) != w.size:
        raise ValueError(
            f"rescale_pair_weights: need non-empty aligned weights and languages, got {w.shape}, {len(langs)}"
        )
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError("rescale_pair_weights: weights must be finite and > 0")
    n = w.size
    if not language_balance:
        return w * (n / w.sum())
    lang_arr = np.asarray(langs, dtype=object)
    groups = sorted(set(langs))
    out = np.empty(n)
    for lang in groups:
        m = lang_arr == lang
        out[m] = w[m] * (n / len(groups) / w[m].sum())
    return out
