"""Language-aware segmentation: words (regex for English, jieba for Chinese) and sentences.

Both return character offsets so that words can be assigned to sentences without segmenting
twice. No English-only tool is ever applied to Chinese text.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from dataclasses import dataclass

# A "word character" is a letter, digit or ideograph (Unicode \w without the underscore).
WORD_CHAR = re.compile(r"[^\W_]")
# English words: runs of letters/digits with internal apostrophes ("don't", "rock'n'roll").
EN_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")

# Sentence terminators; a run may be followed by closing quotes/brackets that stay with it.
_TERMINATOR_RUN = re.compile(r"[.!?…。！？]+[\"'”’」』)）\]】》]*")
_CJK_TERMINATOR = re.compile(r"[。！？]")

_jieba_lock = threading.Lock()
_jieba_tokenizer = None


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    terminator: str  # the terminator run closing the sentence ("" when a newline/end closed it)

    @property
    def is_question(self) -> bool:
        return "?" in self.terminator or "？" in self.terminator

    @property
    def is_exclamation(self) -> bool:
        return "!" in self.terminator or "！" in self.terminator


def _jieba():
    """The jieba tokenizer on its bundled default dictionary, initialised once and quietly.

    A private `jieba.Tokenizer` instance on the explicit path of the bundled dict.txt: user
    words added to the global jieba tokenizer elsewhere cannot change our segmentation, and
    jieba then checks its on-disk cache against the dictionary's mtime (for the implicit
    default dictionary it would trust any /tmp/jieba.cache blindly).
    """
    global _jieba_tokenizer
    if _jieba_tokenizer is None:
        with _jieba_lock:
            if _jieba_tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer(dictionary=_dictionary_path())
                tok.initialize()
                _jieba_tokenizer = tok
    return _jieba_tokenizer


def _dictionary_path() -> str:
    import jieba

    return os.path.join(os.path.dirname(os.path.abspath(jieba.__file__)), "dict.txt")


def segmenter_info() -> dict:
    """Provenance of the Chinese segmentation (jieba version, dictionary hash, HMM on)."""
    import jieba

    with open(_dictionary_path(), "rb") as f:
        digest = hashlib.md5(f.read()).hexdigest()
    return {"jieba_version": jieba.__version__, "dictionary_md5": digest, "hmm": True}


def words_with_offsets(text: str, language: str) -> tuple[list[str], list[int]]:
    """(words, start offsets). zh: jieba (HMM on) tokens that contain a word character;
    en: `EN_WORD` matches."""
    if language == "zh":
        words, starts = [], []
        for word, start, _ in _jieba().tokenize(text, HMM=True):
            if WORD_CHAR.search(word):
                words.append(word)
                starts.append(start)
        return words, starts
    if language == "en":
        matches = list(EN_WORD.finditer(text))
        return [m.group() for m in matches], [m.start() for m in matches]
    raise ValueError(f"unknown language {language!r}")


def words(text: str, language: str) -> list[str]:
    return words_with_offsets(text, language)[0]


def sentences(text: str) -> list[Sentence]:
    """Split into sentences: at newlines, after a run of 。！？ (anywhere), and after a run of
    . ! ? … that is followed by whitespace or the end of the line (so "3.5" and "e.g.x" do not
    split). Segments without any word character (e.g. a lone "!!!") are not sentences."""
    out: list[Sentence] = []
    offset = 0
    for line in text.split("\n"):
        start = 0
        for m in _TERMINATOR_RUN.finditer(line):
            end = m.end()
            if _CJK_TERMINATOR.search(m.group()) or end == len(line) or line[end].isspace():
                _add_sentence(out, line, start, end, m.group(), offset)
                start = end
        if start < len(line):
            _add_sentence(out, line, start, len(line), "", offset)
        offset += len(line) + 1
    return out


def _add_sentence(out: list[Sentence], line: str, start: int, end: int, terminator: str, offset: int) -> None:
    segment = line[start:end]
    if not WORD_CHAR.search(segment):
        return
    lead = len(segment) - len(segment.lstrip())
    out.append(Sentence(offset + start + lead, offset + end, terminator))
