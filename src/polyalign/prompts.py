"""The one prompt renderer shared by training and inference, and the profile length sampler.

A record becomes chat messages: an optional system message, the history turns (roles are
already relative to the responder), then the current user turn (context, a blank line, the
question). Styles add to the system message:

- `plain`   nothing (BaseLM, SFT, DPO);
- `profile` the bucket profile "Respond as a human would in this setting. language=en;
            track=multi; family=dialogue; situation=open_chat; length=short." (Bucket-SFT, HDPO);
- `cot`     a reasoning instruction asking for the reply on a last line "Answer: ..." (CoT).

The messages are rendered with the tokenizer's chat template (add_generation_prompt=True); a
tokenizer without one gets the plain format below, with the tokenizer's own bos added when the
prompt is encoded:

    ### System:\n{system}\n\n### User:\n{text}\n\n### Assistant:\n{text}\n\n ... ### Assistant:\n

Long prompts are cut to `max_prompt_tokens`: history is kept to the last `max_history_turns`
turns, then the oldest turns are dropped one by one, then the context is cut from its end,
then the question from its start (the end of a question is what the response answers).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from .config.settings import settings_from_block

STYLES = ("plain", "profile", "cot")
PROFILE_LENGTH_MODES = ("sampled", "gold", "none")
LENGTH_BINS = ("short", "medium", "long", "xlong")

PROFILE_INSTRUCTION = "Respond as a human would in this setting."
COT_INSTRUCTION = (
    "Think step by step about what a good reply is. "
    "Then write the reply itself on a last line that starts with 'Answer:'."
)
ANSWER_MARKERS = ("Answer:", "answer:", "ANSWER:", "答案：", "答案:")


# Fallback order of the length sampler when a context is unseen in train (most to least specific).
LENGTH_CONTEXT_LEVELS = (
    ("language", "track", "family", "situation"),
    ("language", "track", "family"),
    ("language", "family"),
    ("language",),
    (),
)


@dataclass(frozen=True)
class PromptSettings:
    """The resolved `prompt:` block: the prompt token budget and the history turns kept."""

    max_prompt_tokens: int
    max_history_turns: int


def prompt_settings(config: dict) -> PromptSettings:
    """PromptSettings of a resolved config's `prompt:` block (every key present)."""
    return settings_from_block(PromptSettings, config.get("prompt"), "prompt")


def prompt_scaffold_texts() -> list[str]:
    """The fixed texts prompts are made of (instructions, answer markers): a scratch tokenizer
    trains on them too, so no character of a rendered prompt is unknown to it."""
    return [
        PROFILE_INSTRUCTION,
        COT_INSTRUCTION,
        *ANSWER_MARKERS,
        "language=; track=; family=; situation=; length=.",
    ]


def profile_text(record: dict, length_bin: str | None) -> str:
    fields = [f"{k}={record[k]}" for k in ("language", "track", "family", "situation")]
    if length_bin is not None:
        fields.append(f"length={length_bin}")
    return f"{PROFILE_INSTRUCTION} {'; '.join(fields)}."


def user_text(record: dict, question: str | None = None, context: str | None = None) -> str:
    question = record["question"] if question is None else question
    context = record.get("context", "") if context is None else context
    return f"{context}\n\n{question}" if context else question


def build_messages(
    record: dict,
    system: str | None = None,
    style: str = "plain",
    length_bin: str | None = None,
    history: list[dict] | None = None,
    question: str | None = None,
    context: str | None = None,
) -> list[dict]:
    """Chat messages of a record. `system` is an extra system text put before the style's own;
    `length_bin` is the profile's length (None omits it); `history`, `question`, `context`
    override the record's (used by truncation)."""
    if style not in STYLES:
        raise ValueError(f"unknown prompt style '{style}' (known: {STYLES})")
    parts = [system] if system else []
    if style == "profile":
        parts.append(profile_text(record, length_bin))
    elif style == "cot":
        parts.append(COT_INSTRUCTION)
    messages = [{"role": "system", "content": "\n".join(parts)}] if parts else []
    for turn in record.get("history", []) if history is None else history:
        messages.append({"role": turn["role"], "content": turn["text"]})
    messages.append({"role": "user", "content": user_text(record, question, context)})
    return messages


def render_messages(messages: list[dict], tokenizer) -> str:
    if getattr(tokenizer, "chat_template", None):
        from .models.chat import fit_messages

        return tokenizer.apply_chat_template(
            fit_messages(messages, tokenizer), tokenize=False, add_generation_prompt=True
        )
    blocks = [f"### {m['role'].capitalize()}:\n{m['content']}" for m in messages]
    return "\n\n".join(blocks + ["### Assistant:\n"])


def encode_prompt(text: str, tokenizer) -> list[int]:
    """Token ids of a rendered prompt: a chat template writes its own special tokens; the plain
    format gets whatever the tokenizer adds by itself (typically bos)."""
    add_special = not getattr(tokenizer, "chat_template", None)
    return tokenizer(text, add_special_tokens=add_special)["input_ids"]


def render_prompt(
    record: dict,
    tokenizer,
    system: str | None = None,
    style: str = "plain",
    length_bin: str | None = None,
    max_prompt_tokens: int | None = None,
    max_history_turns: int | None = None,
) -> str:
    """The prompt string of `record` (see the module docstring), at most `max_prompt_tokens`."""
    return render_prompt_ids(
        record, tokenizer, system, style, length_bin, max_prompt_tokens, max_history_turns
    )[0]


def render_prompt_ids(
    record: dict,
    tokenizer,
    system: str | None = None,
    style: str = "plain",
    length_bin: str | None = None,
    max_prompt_tokens: int | None = None,
    max_history_turns: int | None = None,
) -> tuple[str, list[int]]:
    """`render_prompt` and the prompt's token ids (`encode_prompt` of it), encoded once."""
    history = list(record.get("history", []))
    if max_history_turns is not None:
        history = history[len(history) - max_history_turns :] if max_history_turns > 0 else []
    question, context = record["question"], record.get("context", "")

    def render():
        text = render_messages(
            build_messages(record, system, style, length_bin, history, question, context), tokenizer
        )
        return text, encode_prompt(text, tokenizer)

    text, ids = render()
    if max_prompt_tokens is None:
        return text, ids
    while len(ids) > max_prompt_tokens and history:
        history = history[1:]
        text, ids = render()
    # Cut by characters, not tokens: decoding a cut byte-level sequence can split a character
    # and re-encode longer. Each pass removes at least one character, so the loop ends.
    for field in ("context", "question"):
        while len(ids) > max_prompt_tokens:
            value = context if field == "context" else question
            floor = 0 if field == "context" else 1
            if len(value) <= floor:
                break
            value_tokens = max(1, len(tokenizer(value, add_special_tokens=False)["input_ids"]))
            cut = max(1, math.ceil((len(ids) - max_prompt_tokens) * len(value) / value_tokens))
            keep = max(len(value) - cut, floor)
            if field == "context":
                context = value[:keep].rstrip()
            else:
                question = value[len(value) - keep :].lstrip() or value[-1]
            text, ids = render()
    if len(ids) > max_prompt_tokens:
        raise ValueError(
            f"record {record.get('id')}: prompt needs {len(ids)} tokens even without history, context "
            f"and most of the question; max_prompt_tokens={max_prompt_tokens} is too small"
        )
    return text, ids


def extract_final_answer(text: str) -> tuple[str, bool]:
    """(answer, found): the text after the last answer marker ("Answer:", or 答案： in Chinese),
    stripped. Without a marker the answer is empty and found is False: a CoT output that never
    reaches its answer line has no answer, and is scored as an empty one, never as the
    reasoning text."""
    best = -1
    for marker in ANSWER_MARKERS:
        i = text.rfind(marker)
        if i >= 0 and i + len(marker) > best:
            best = i + len(marker)
    if best < 0:
        return "", False
    return text[best:].strip(), True


class LengthSampler:
    """p(length_bin | language, track, family, situation) of the train split, drawn per record.

    A context never seen in train falls back along LENGTH_CONTEXT_LEVELS (drop situation, then
    track, then family, then everything: the global distribution). The draw for a record is a
    function of (seed, record id) only, so it does not depend on the order or batch of records.
    """

    def __init__(self, counts: dict[tuple, dict[str, int]], seed: int = 0):
        self.counts = counts
        self.seed = seed

    @classmethod
    def fit(cls, train_records, seed: int = 0) -> LengthSampler:
        counts: dict[tuple, Counter] = defaultdict(Counter)
        for r in train_records:
            for level in LENGTH_CONTEXT_LEVELS:
                counts[_context_key(r, level)][r["length_bin"]] += 1
        if not counts:
            raise ValueError("LengthSampler.fit: no training records")
        return cls({k: dict(v) for k, v in counts.items()}, seed)

    def distribution(self, record: dict) -> tuple[tuple, dict[str, int]]:
        """(context key used, bin counts) of the most specific context seen in train."""
        for level in LENGTH_CONTEXT_LEVELS:
            key = _context_key(record, level)
            if key in self.counts:
                return key, self.counts[key]
        raise KeyError("unreachable: the global context is always fitted")

    def sample(self, record: dict) -> str:
        _, counts = self.distribution(record)
        bins = [b for b in _ordered_bins(counts) if counts[b] > 0]
        total = sum(counts[b] for b in bins)
        digest = hashlib.sha256(f"{self.seed}:{record['id']}".encode()).hexdigest()
        r = int(digest[:16], 16) % total
        for b in bins:
            r -= counts[b]
            if r < 0:
                return b
        raise AssertionError("unreachable")

    def to_dict(self) -> dict:
        return {
            "seed": self.seed,
            "counts": [{"context": list(k), "bins": v} for k, v in sorted(self.counts.items())],
        }

    @classmethod
    def from_dict(cls, d: dict) -> LengthSampler:
        return cls({tuple(tuple(x) for x in e["context"]): dict(e["bins"]) for e in d["counts"]}, d["seed"])


def _context_key(record: dict, level: tuple) -> tuple:
    return tuple((f, record[f]) for f in level)


def _ordered_bins(counts: dict) -> list[str]:
    return [b for b in LENGTH_BINS if b in counts] + sorted(b for b in counts if b not in LENGTH_BINS)


def profile_length_bin(record: dict, mode: str, sampler: LengthSampler | None = None) -> str | None:
    """The length bin written into a profile prompt at inference: `sampled` from the train
    distribution (needs `sampler`), `gold` the record's own bin (oracle), `none` no length."""
    if mode == "sampled":
        if sampler is None:
            raise ValueError("profile_length=sampled needs a LengthSampler fitted on the train split")
        return sampler.sample(record)
    if mode == "gold":
        return record["length_bin"]
    if mode == "none":
        return None
    raise ValueError(f"unknown profile_length '{mode}' (known: {PROFILE_LENGTH_MODES})")
