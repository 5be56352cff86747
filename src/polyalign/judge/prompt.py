"""The judge prompt: objective, rubric, guidance, the record's metadata, and the dialogue parts
each in its own block, as one user message (every chat template accepts a user turn; some,
such as Gemma-2's, reject a system role)."""

from __future__ import annotations

from ..metrics.judge import DIMENSIONS
from .rubric import GUIDANCE, OBJECTIVE, rubric_text

METADATA_FIELDS = ("language", "track", "family", "situation", "length_bin")


def _block(name: str, text: str) -> str:
    body = text.strip() if text and text.strip() else "(none)"
    return f"[{name}]\n{body}\n[/{name}]"


def _history_text(history: list[dict]) -> str:
    return "\n".join(f"{turn['role']}: {turn['text']}" for turn in history or [])


def judge_user_message(record: dict, candidate: str) -> str:
    """The whole judge request for one (record, candidate) pair."""
    missing = [f for f in (*METADATA_FIELDS, "question", "human_answer") if f not in record]
    if missing:
        raise ValueError(f"record {record.get('id', '?')}: missing field(s) {missing} for the judge prompt")
    metadata = "; ".join(f"{f}={record[f]}" for f in METADATA_FIELDS)
    parts = [
        OBJECTIVE,
        "",
        rubric_text(),
        "",
        "\n".join(GUIDANCE),
        "",
        f"Metadata: {metadata}",
        _block("history", _history_text(record.get("history", []))),
        _block("context", record.get("context", "")),
        _block("instruction", record["question"]),
        _block("reference", record["human_answer"]),
        _block("candidate", candidate),
        "",
        "Answer with exactly eight lines, one per dimension in this order, each `dimension: score`: "
        + ", ".join(DIMENSIONS)
        + ".",
    ]
    return "\n".join(parts)


def judge_prompt_ids(
    tokenizer, record: dict, candidate: str, chat_template_kwargs: dict | None = None
) -> list[int]:
    """Token ids of the judge request rendered with the judge's own chat template, ending where
    the judge's reply starts."""
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(
            "the judge tokenizer has no chat template; judges must be instruction-tuned chat models"
        )
    messages = [{"role": "user", "content": judge_user_message(record, candidate)}]
    text = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, tokenize=False, **(chat_template_kwargs or {})
    )
    return tokenizer(text, add_special_tokens=False)["input_ids"]
