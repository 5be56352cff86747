"""Detector rates split by whether an answer is written in its prompt's language.

A detector calibrated on Chinese human answers rarely flags an answer to a Chinese prompt that is
not written in Chinese (an English word salad looks nothing like its calibration set), so a
system that drifts out of the language earns detector credit it did not earn by sounding human.
Per detector and system, over the prompts of one language: the primary-FPR AI rate among the
answers written in that language and among the others, each with its counts (flagged k of n),
summed over the run seeds. Point estimates only: the two subsets differ by system and seed, so
they have no paired interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..metrics.fidelity import in_language
from ..text import normalize_text


def _share(k: int, n: int) -> dict:
    return {"rate": k / n if n else None, "k": k, "n": n}


def rates_by_answer_language(
    flags_by_seed: Mapping[str, Mapping[str, Mapping[str, Mapping[str, bool]]]],
    answers_by_seed: Mapping[str, Mapping[str, Mapping[str, str]]],
    test: Sequence[tuple[str, str]],
    language: str,
) -> dict:
    """{detector: {system: {"in_language": {rate, k, n}, "other": {rate, k, n}}}} over the test
    prompts of `language`. flags_by_seed: {seed: {detector: {system: {id: flagged}}}} at the
    primary FPR; answers_by_seed: {seed: {system: {id: answer text}}}. Unanswered (empty) answers
    are left out, as in every detector rate."""
    ids = [i for i, lg in test if lg == language]
    counts: dict = {}
    for seed, per_detector in flags_by_seed.items():
        for det, per_system in per_detector.items():
            for system, flags in per_system.items():
                answers = answers_by_seed[seed][system]
                c = counts.setdefault(det, {}).setdefault(system, {"in_language": [0, 0], "other": [0, 0]})
                for i in ids:
                    text = answers[i]
                    if not normalize_text(text):
                        continue
                    side = c["in_language" if in_language(text, language) else "other"]
                    side[0] += bool(flags[i])
                    side[1] += 1
    return {
        det: {system: {side: _share(*kn) for side, kn in c.items()} for system, c in per_system.items()}
        for det, per_system in counts.items()
    }
