"""Language fidelity (↑): the share of outputs written in the prompt's language.

The two languages of the benchmark have disjoint scripts, so language is read off the script:
an output is *in language* when more than half of its script characters (CJK ideographs and
ASCII letters, counted by `polyalign.text.script_profile`) belong to the prompt language's script
(zh: CJK, en: Latin). An output without any script character (empty, or only digits and
punctuation) is not in language: nothing shows that it answers in the prompt's language, and the
count `no_script` says how many such outputs there are (docs/evaluation.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from polyalign.text import script_profile

SCRIPT_OF_LANGUAGE = {"en": "latin", "zh": "cjk"}


def in_language(text: str, language: str) -> bool:
    """Whether more than half of the script characters of `text` are the language's script."""
    if language not in SCRIPT_OF_LANGUAGE:
        raise ValueError(
            f"language fidelity: unknown language {language!r} (known: {sorted(SCRIPT_OF_LANGUAGE)})"
        )
    n_cjk, n_latin = script_profile(text)
    own = n_cjk if SCRIPT_OF_LANGUAGE[language] == "cjk" else n_latin
    return 2 * own > n_cjk + n_latin


def language_fidelity(texts: Sequence[str], languages: Sequence[str]) -> dict:
    """Per-example flags (1.0 / 0.0), the overall share and the share per prompt language."""
    if len(texts) != len(languages):
        raise ValueError(f"{len(texts)} texts for {len(languages)} languages")
    flags = np.array([float(in_language(t, lang)) for t, lang in zip(texts, languages)])
    langs = np.asarray(languages)
    no_script = np.array([sum(script_profile(t)) == 0 for t in texts], dtype=bool)
    per_language = {str(lang): float(flags[langs == lang].mean()) for lang in sorted(set(languages))}
    return {
        "per_example": flags,
        "share": float(flags.mean()) if flags.size else float("nan"),
        "per_language": per_language,
        "no_script": int(no_script.sum()),
    }
