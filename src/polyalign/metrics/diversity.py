"""Diversity metrics: pooled distinct-n and Self-BLEU-4 with a self-written BLEU (docs/method.md §9)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from polyalign.config import block_defaults
from polyalign.metrics.tokenize import diversity_tokens

# Keyword defaults are the config schema's evaluation.diversity block (the one place they are written).
_DIVERSITY = block_defaults("evaluation", "diversity")


def _ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(outputs: Sequence[str], n: int) -> float:
    """Unique n-grams / total n-grams, pooled over all outputs (n-grams never cross outputs).

    NaN when the outputs contain no n-gram at all.
    """
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in outputs:
        grams = _ngrams(diversity_tokens(text), n)
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else float("nan")


def _ngram_counts(tokens: Sequence[str], max_n: int) -> list[Counter]:
    """Counters of the 1..max_n-grams of one tokenized text (index n − 1)."""
    return [Counter(_ngrams(tokens, n)) for n in range(1, max_n + 1)]


def sentence_bleu(
    hypothesis: Sequence[str], references: Sequence[Sequence[str]], max_n: int = 4, epsilon: float = 0.1
) -> float:
    """BLEU-`max_n` of one tokenized hypothesis against tokenized references.

    Uniform weights; clipped n-gram precisions; smoothing method 1 of Chen & Cherry (2014):
    a precision with zero matches becomes epsilon / (number of hypothesis n-grams, at least 1);
    brevity penalty against the reference length closest to the hypothesis length (shorter one
    on ties). Returns 0 for an empty hypothesis or when no unigram matches.
    """
    if not references:
        raise ValueError("sentence_bleu needs at least one reference")
    return _bleu_from_counts(
        _ngram_counts(hypothesis, max_n),
        len(hypothesis),
        [_ngram_counts(r, max_n) for r in references],
        [len(r) for r in references],
        epsilon,
    )


def _bleu_from_counts(
    hyp: list[Counter], hyp_len: int, refs: list[list[Counter]], ref_lens: list[int], epsilon: float = 0.1
) -> float:
    """`sentence_bleu` on precomputed n-gram counters (Self-BLEU reuses each text's counters
    for every hypothesis it serves as a reference to). A hypothesis n-gram's clip is its
    largest count in any one reference, looked up only for the hypothesis' own n-grams."""
    if hyp_len == 0:
        return 0.0
    max_n = len(hyp)
    log_precision = 0.0
    for n in range(max_n):
        hyp_counts = hyp[n]
        matches = sum(min(count, max(r[n].get(gram, 0) for r in refs)) for gram, count in hyp_counts.items())
        denominator = max(1, sum(hyp_counts.values()))
        if matches == 0:
            if n == 0:
                return 0.0
            precision = epsilon / denominator
        else:
            precision = matches / denominator
        log_precision += math.log(precision) / max_n
    ref_len = min((abs(length - hyp_len), length) for length in ref_lens)[1]
    brevity = 1.0 if hyp_len > ref_len else math.exp(1.0 - ref_len / hyp_len)
    return brevity * math.exp(log_precision)


def self_bleu(
    outputs: Sequence[str],
    n_samples: int = _DIVERSITY["n_samples"],
    n_references: int = _DIVERSITY["n_references"],
    seed: int = _DIVERSITY["seed"],
    max_n: int = 4,
) -> dict:
    """Self-BLEU-4: mean BLEU of sampled outputs against other sampled outputs (↓ = diverse).

    Draws min(n_samples, len(outputs)) hypotheses without replacement (seeded); for each, draws
    min(n_references, len(outputs) - 1) references without replacement among the other outputs.
    """
    if len(outputs) < 2:
        return {"self_bleu": float("nan"), "n_hypotheses": 0, "n_references": 0, "seed": seed}
    rng = np.random.default_rng(seed)
    tokens = [diversity_tokens(t) for t in outputs]
    counts = [_ngram_counts(t, max_n) for t in tokens]
    n_hyp = min(n_samples, len(outputs))
    n_ref = min(n_references, len(outputs) - 1)
    hyp_idx = rng.choice(len(outputs), size=n_hyp, replace=False)
    scores = []
    for i in hyp_idx:
        others = rng.choice(len(outputs) - 1, size=n_ref, replace=False)
        others = others + (others >= i)  # skip the hypothesis itself
        scores.append(
            _bleu_from_counts(
                counts[i], len(tokens[i]), [counts[j] for j in others], [len(tokens[j]) for j in others]
            )
        )
    return {"self_bleu": float(np.mean(scores)), "n_hypotheses": n_hyp, "n_references": n_ref, "seed": seed}


def diversity_scores(
    outputs: Sequence[str],
    seed: int = _DIVERSITY["seed"],
    n_samples: int = _DIVERSITY["n_samples"],
    n_references: int = _DIVERSITY["n_references"],
) -> dict:
    """distinct-1/2/3 and Self-BLEU-4 of one system's outputs (call once per language)."""
    sb = self_bleu(outputs, n_samples=n_samples, n_references=n_references, seed=seed)
    return {
        "n": len(outputs),
        "distinct_1": distinct_n(outputs, 1),
        "distinct_2": distinct_n(outputs, 2),
        "distinct_3": distinct_n(outputs, 3),
        "self_bleu_4": sb["self_bleu"],
        "self_bleu_n_hypotheses": sb["n_hypotheses"],
        "self_bleu_n_references": sb["n_references"],
        "seed": seed,
    }
