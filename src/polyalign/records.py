"""The normalized record schema (docs/method.md §1) and its validation.

Loaders yield *raw records*: dicts with the fields below minus `id`, `split`, `length_bin` and
`bucket_id`, plus `source_split` (an official split or None), `split_key` (the group that must
stay in one split) and `where` (file:line of the source row, for error messages).
"""

from __future__ import annotations

import re

from .io import InputError
from .text import foreign_letters, is_blank, normalize_text, script_profile

LANGUAGES = ("en", "zh")
FAMILIES = ("assistant", "qa", "dialogue")
SITUATIONS = ("assistant_like", "longform_qa", "qa_search", "open_chat", "task_dialogue")
SPLITS = ("train", "val", "test")
ROLES = ("user", "assistant")

RAW_FIELDS = {
    "dataset": str,
    "language": str,
    "family": str,
    "situation": str,
    "question": str,
    "context": str,
    "history": list,
    "human_answer": str,
    "split_key": str,
    "meta": dict,
}
ENUMS = {"language": LANGUAGES, "family": FAMILIES, "situation": SITUATIONS}


CORPUS_SCRIPTS = ("latin", "han")  # the letters of English and Chinese text


def script_mismatch(text: str, language: str) -> bool:
    """An English text containing CJK ideographs, a Chinese text with Latin letters and no CJK
    ideograph at all, or a text with letters of a script that belongs to neither language
    (Cyrillic, Greek, kana, Hangul …). Mixed Chinese text that quotes an English word is
    accepted."""
    if foreign_letters(text, CORPUS_SCRIPTS):
        return True
    n_cjk, n_latin = script_profile(text)
    if language == "en":
        return n_cjk > 0
    return n_latin > 0 and n_cjk == 0


# C0 and C1 control characters other than tab, newline and carriage return (NUL, escape, ...):
# never text, and kept verbatim they reach tokenizers and the rating page.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def text_fields(raw: dict) -> list[tuple[str, str]]:
    """(field name, text) of every string text field of a raw record, history turns included."""
    texts = [(f, raw[f]) for f in ("question", "context", "human_answer") if isinstance(raw.get(f), str)]
    texts += [(f"history[{i}].text", t.get("text")) for i, t in enumerate(raw.get("history") or [])]
    return [(field, text) for field, text in texts if isinstance(text, str)]


def control_character(raw: dict) -> tuple[str, int, str] | None:
    """(field, offset, character) of the first control character in a text field, or None."""
    for field, text in text_fields(raw):
        match = CONTROL_CHARACTERS.search(text)
        if match:
            return field, match.start(), match.group()
    return None


def overlong_field(raw: dict, max_chars: int) -> tuple[str, int] | None:
    """(field, length) of the first text field longer than `max_chars` characters, or None."""
    for field, text in text_fields(raw):
        if len(text) > max_chars:
            return field, len(text)
    return None


def validate_raw(raw: dict, where: str, max_field_chars: int) -> None:
    """Raise InputError naming `where` and the field for any schema violation.
    `max_field_chars`: config corpus_build.max_field_chars."""
    for field, typ in RAW_FIELDS.items():
        if field not in raw:
            raise InputError(f"{where}: missing field '{field}'")
        if not isinstance(raw[field], typ):
            raise InputError(
                f"{where}: field '{field}' should be {typ.__name__}, got {type(raw[field]).__name__}"
            )
    for field, allowed in ENUMS.items():
        if raw[field] not in allowed:
            raise InputError(
                f"{where}: field '{field}' has invalid value {raw[field]!r} (allowed: {allowed})"
            )
    src = raw.get("source_split")
    if src is not None and src not in SPLITS:
        raise InputError(f"{where}: field 'source_split' has invalid value {src!r}")
    for i, turn in enumerate(raw["history"]):
        if not isinstance(turn, dict) or set(turn) != {"role", "text"}:
            raise InputError(f"{where}: field 'history[{i}]' must be an object with 'role' and 'text'")
        if turn["role"] not in ROLES or not isinstance(turn["text"], str):
            raise InputError(f"{where}: field 'history[{i}]' has invalid role or non-string text")
    if is_blank(raw["human_answer"]) and not raw["meta"].get("unanswerable", False):
        raise InputError(f"{where}: field 'human_answer' is empty (only whitespace or invisible characters)")
    if is_blank(raw["question"]):
        raise InputError(f"{where}: field 'question' is empty (only whitespace or invisible characters)")
    long = overlong_field(raw, max_field_chars)
    if long:
        field, length = long
        raise InputError(
            f"{where}: field '{field}' is {length} characters long, over "
            f"corpus_build.max_field_chars={max_field_chars}"
        )
    found = control_character(raw)
    if found:
        field, offset, char = found
        raise InputError(
            f"{where}: field '{field}' holds control character U+{ord(char):04X} at offset {offset}"
        )


def normalize_raw(raw: dict) -> dict:
    """Apply the text normalization to every text field; derive the track from the history."""
    history = [{"role": t["role"], "text": normalize_text(t["text"])} for t in raw["history"]]
    out = {
        "dataset": raw["dataset"],
        "language": raw["language"],
        "track": "multi" if history else "single",
        "family": raw["family"],
        "situation": raw["situation"],
        "question": normalize_text(raw["question"]),
        "context": normalize_text(raw["context"]),
        "history": history,
        "human_answer": normalize_text(raw["human_answer"]),
        "source_split": raw.get("source_split"),
        "split_key": raw["split_key"],
        "meta": dict(raw["meta"]),
    }
    out["meta"].setdefault("where", raw.get("where", ""))
    return out
