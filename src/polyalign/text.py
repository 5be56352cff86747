"""Text normalization and the length-token rule shared by bucketing, features and metrics."""

from __future__ import annotations

import re
import unicodedata

_WS_RUN = re.compile(r"[^\S\n]+")
_BLANK_RUN = re.compile(r"\n{2,}")

# In order: an ASCII word with optional 'suffix; a digit run; one CJK ideograph; one non-word,
# non-space character (docs/method.md §1).
CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
LENGTH_TOKEN = re.compile(rf"[A-Za-z]+(?:'[A-Za-z]+)?|[0-9]+|[{CJK_RANGES}]|[^\w\s]")
CJK_CHAR = re.compile(rf"[{CJK_RANGES}]")
LATIN_CHAR = re.compile(r"[A-Za-z]")


def normalize_text(text: str) -> str:
    """CR/CRLF -> LF; collapse whitespace runs per line; collapse blank-line runs; strip."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_WS_RUN.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = _BLANK_RUN.sub("\n\n", text)
    return text.strip()


def length_tokens(text: str) -> list[str]:
    return LENGTH_TOKEN.findall(text)


def count_length_tokens(text: str) -> int:
    return len(LENGTH_TOKEN.findall(text))


def length_bin(n_tokens: int, thresholds: list[int] | tuple[int, ...]) -> str:
    """short <= t0 < medium <= t1 < long <= t2 < xlong."""
    t_short, t_medium, t_long = thresholds
    if n_tokens <= t_short:
        return "short"
    if n_tokens <= t_medium:
        return "medium"
    if n_tokens <= t_long:
        return "long"
    return "xlong"


def script_profile(text: str) -> tuple[int, int]:
    """(number of CJK ideographs, number of ASCII letters)."""
    return len(CJK_CHAR.findall(text)), len(LATIN_CHAR.findall(text))


# Characters that print nothing: whitespace, format characters (zero-width space/joiners, BOM,
# word joiner, bidi marks) and control characters.
_INVISIBLE_CATEGORIES = {"Cf", "Cc", "Zs", "Zl", "Zp"}


def is_blank(text: str) -> bool:
    """True when `text` shows nothing: only whitespace, zero-width and other invisible characters
    (str.strip() keeps U+200B ZERO WIDTH SPACE, U+FEFF, U+2060 …)."""
    return all(ch.isspace() or unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in text)


def comparison_form(text: str) -> str:
    """`text` as duplicates are compared: format characters removed (zero-width space and
    joiners, BOM, word joiner, soft hyphen, bidi marks: they print nothing), whitespace runs
    (no-break and ideographic spaces included) collapsed again, lower-cased. Only for comparing:
    the record keeps its text."""
    visible = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return normalize_text(visible).lower()


# Letter-like characters that are not a script's letters (unit and ordinal signs).
_SCRIPTLESS_LETTERS = {"\u00b5", "\u00aa", "\u00ba"}


def letter_script(ch: str) -> str | None:
    """'latin', 'han', 'other' (a letter of any other script: Cyrillic, Greek, kana, Hangul …),
    or None for a non-letter."""
    if not ch.isalpha() or ch in _SCRIPTLESS_LETTERS:
        return None
    if CJK_CHAR.match(ch):
        return "han"
    name = unicodedata.name(ch, "")
    if name.startswith(("LATIN", "FULLWIDTH LATIN")):
        return "latin"
    if name.startswith(("CJK", "IDEOGRAPHIC")):
        return "han"
    return "other"


def foreign_letters(text: str, allowed: tuple[str, ...]) -> str:
    """The letters of `text` whose script is not in `allowed`, in order of first appearance."""
    seen = dict.fromkeys(ch for ch in text if (s := letter_script(ch)) is not None and s not in allowed)
    return "".join(seen)
