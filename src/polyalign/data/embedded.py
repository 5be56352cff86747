"""Loaders of the embedded corpus: chatterbot-corpus (en, zh) and chitchat-dataset (en).

Both yield one raw record per turn t >= 1 of a conversation: question = turn t-1, history = the
turns before it, answer = turn t. History roles are relative to the responder (the turn right
before the answer is "user", alternating backwards), so every prompt ends on a user turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from ..io import InputError, read_utf8
from ..text import is_blank
from .registry import register

CATEGORY_FAMILY = {
    **dict.fromkeys(
        ["ai", "botprofile", "computers", "coding", "tech_support"], ("assistant", "assistant_like")
    ),
    **dict.fromkeys(
        [
            "trivia",
            "history",
            "science",
            "literature",
            "movies",
            "politics",
            "sports",
            "food",
            "health",
            "money",
            "psychology",
        ],
        ("qa", "qa_search"),
    ),
    **dict.fromkeys(["conversations", "greetings", "emotion", "gossip", "humor"], ("dialogue", "open_chat")),
}
LANGUAGE_DIRS = {"english": "en", "chinese": "zh"}
YAML_STR = "tag:yaml.org,2002:str"


def conversation_records(
    turns: list[str], *, dataset, language, family, situation, split_key, source_id, where, meta
) -> Iterator[dict]:
    for t in range(1, len(turns)):
        prior = turns[: t - 1]
        history = [
            {"role": "user" if (t - 1 - j) % 2 == 0 else "assistant", "text": text}
            for j, text in enumerate(prior)
        ]
        yield {
            "dataset": dataset,
            "language": language,
            "family": family,
            "situation": situation,
            "question": turns[t - 1],
            "context": "",
            "history": history,
            "human_answer": turns[t],
            "source_split": None,
            "split_key": split_key,
            "where": where(t),
            "meta": {**meta, "source_id": f"{source_id}:{t}", "turn_index": t},
        }


def _yaml_turns(node, path: Path, index: int) -> list[str]:
    if not isinstance(node, yaml.SequenceNode):
        raise InputError(
            f"{path}:{node.start_mark.line + 1}: field 'conversations[{index}]' must be a list of turns"
        )
    turns = []
    for j, turn in enumerate(node.value):
        if not isinstance(turn, yaml.ScalarNode) or turn.tag != YAML_STR:
            kind = turn.tag.rsplit(":", 1)[-1] if isinstance(turn, yaml.ScalarNode) else type(turn).__name__
            raise InputError(
                f"{path}:{turn.start_mark.line + 1}: field 'conversations[{index}][{j}]' should be a string, got {kind}"
            )
        turns.append(turn.value)
    return turns


def is_known_bad(source: dict, where: str) -> bool:
    """True when `where` (".../file:line") is listed in the corpus' `known_bad_rows` (suffix match).

    Upstream data has a few broken rows; they are skipped only when named one by one in the
    config, and counted in the build log, so new breakage still fails loudly."""
    return any(where.endswith(row) for row in source.get("known_bad_rows", []))


def _skip(source: dict, reason: str, where: str) -> None:
    source.setdefault("_skipped", {}).setdefault(reason, []).append(where)


def _is_null(node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def check_unique_keys(root, path: Path) -> None:
    """A key repeated in one YAML mapping silently replaces the first value (its conversations
    are lost): raise naming both lines."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            first: dict = {}
            for key, value in node.value:
                line = key.start_mark.line + 1
                if key.value in first:
                    raise InputError(
                        f"{path}:{line}: key {key.value!r} repeated (first at line {first[key.value]}); "
                        "YAML would keep only the last"
                    )
                first[key.value] = line
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def read_json_unique(path: Path):
    """chitchat's dataset.json, refusing a key given twice in one object (a repeated conversation
    id: JSON keeps only the last), naming the lines where it stands."""
    text = read_utf8(path)

    def unique(items):
        keys = [k for k, _ in items]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            key = repeated[0]
            pattern = re.escape(json.dumps(key)) + r"\s*:"
            lines = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(pattern, text)]
            where = f"{path}:{lines[-1]}" if lines else str(path)
            raise InputError(
                f"{where}: key {key!r} repeated (lines {', '.join(map(str, lines))}); "
                "JSON would keep only the last"
            )
        return dict(items)

    try:
        return json.loads(text, object_pairs_hook=unique)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}: malformed JSON ({e.msg})") from None


def _node_kind(node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return node.tag.rsplit(":", 1)[-1]
    return {yaml.MappingNode: "mapping", yaml.SequenceNode: "list"}.get(type(node), type(node).__name__)


def read_chatterbot_file(path: Path, source: dict) -> tuple[list[str], list[tuple[int, int, list[str]]]]:
    """(categories, [(line, index, turns)]) with line numbers for error messages. An empty file
    or an empty `conversations:` yields nothing and is counted in `source["_skipped"]`."""
    text = read_utf8(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else "?"
        raise InputError(f"{path}:{line}: malformed YAML ({getattr(e, 'problem', e)})") from None
    if root is None:
        _skip(source, "empty_file", str(path))
        return [], []
    if not isinstance(root, yaml.MappingNode):
        raise InputError(f"{path}:1: expected a mapping with 'categories' and 'conversations'")
    check_unique_keys(root, path)
    fields = {k.value: v for k, v in root.value}
    for key in ("categories", "conversations"):
        if key not in fields:
            raise InputError(f"{path}:1: missing field '{key}'")
    for key in ("categories", "conversations"):
        node = fields[key]
        if not isinstance(node, yaml.SequenceNode) and not _is_null(node):
            raise InputError(
                f"{path}:{node.start_mark.line + 1}: field '{key}' must be a list, got {_node_kind(node)}"
            )
    categories = [n.value for n in fields["categories"].value or []]
    if _is_null(fields["conversations"]) or not fields["conversations"].value:
        _skip(source, "empty_conversations", str(path))
        return categories, []
    convs = []
    for i, node in enumerate(fields["conversations"].value):
        line = node.start_mark.line + 1
        if is_known_bad(source, f"{path}:{line}"):
            _skip(source, "known_bad_rows", f"{path}:{line}")
            continue
        convs.append((line, i, _yaml_turns(node, path, i)))
    return categories, convs


@register(
    "chatterbot",
    split_weights={"train": 0.8, "val": 0.1, "test": 0.1},
    description="chatterbot-corpus 1.3.3, english + chinese (simplified)",
)
def load_chatterbot(source: dict) -> Iterator[dict]:
    root = Path(source["path"])
    for lang_dir in source.get("languages", list(LANGUAGE_DIRS)):
        if lang_dir not in LANGUAGE_DIRS:
            raise InputError(f"corpora.chatterbot.languages: unknown language directory {lang_dir!r}")
        files = sorted((root / lang_dir).glob("*.yml"))
        if not files:
            raise InputError(f"{root / lang_dir}: no *.yml files (run the fetch rule first)")
        for path in files:
            category = path.stem
            if category not in CATEGORY_FAMILY:
                raise InputError(f"{path}: category '{category}' has no family/situation mapping")
            family, situation = CATEGORY_FAMILY[category]
            _, convs = read_chatterbot_file(path, source)
            for line, i, turns in convs:
                yield from conversation_records(
                    turns,
                    dataset="chatterbot",
                    language=LANGUAGE_DIRS[lang_dir],
                    family=family,
                    situation=situation,
                    split_key=f"chatterbot:{lang_dir}/{category}:{i}",
                    source_id=f"{lang_dir}/{category}/{i}",
                    where=lambda t, line=line, p=path: f"{p}:{line}",
                    meta={"file": f"{lang_dir}/{path.name}", "conversation_index": i, "category": category},
                )


def chitchat_turns(conv, path: Path, cid: str) -> list[str]:
    if not isinstance(conv, dict) or not isinstance(conv.get("messages"), list):
        raise InputError(f"{path}: conversation {cid}: missing field 'messages'")
    turns = []
    for j, group in enumerate(conv["messages"]):
        if not isinstance(group, list) or not group:
            raise InputError(f"{path}: conversation {cid}: field 'messages[{j}]' must be a non-empty list")
        texts = []
        for k, msg in enumerate(group):
            if not isinstance(msg, dict) or "text" not in msg:
                raise InputError(f"{path}: conversation {cid}: missing field 'messages[{j}][{k}].text'")
            if not isinstance(msg["text"], str):
                raise InputError(
                    f"{path}: conversation {cid}: field 'messages[{j}][{k}].text' should be a string, "
                    f"got {type(msg['text']).__name__}"
                )
            texts.append(msg["text"])
        turns.append("\n".join(texts))
    return turns


@register(
    "chitchat",
    split_weights={"train": 0.8, "val": 0.1, "test": 0.1},
    description="chitchat-dataset 0.9.0 (BYU Chit-Chat Challenge), English human-human chat",
)
def load_chitchat(source: dict) -> Iterator[dict]:
    path = Path(source["path"]) / "dataset.json"
    data = read_json_unique(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected an object keyed by conversation id")
    skipped = source.setdefault("_skipped", {})
    for cid in sorted(data):
        turns = chitchat_turns(data[cid], path, cid)
        for raw in conversation_records(
            turns,
            dataset="chitchat",
            language="en",
            family="dialogue",
            situation="open_chat",
            split_key=f"chitchat:{cid}",
            source_id=cid,
            where=lambda t, cid=cid: f"{path}: conversation {cid} turn {t}",
            meta={"conversation_id": cid},
        ):
            # A few messages are empty upstream (attachments stripped); no prompt or target there.
            if is_blank(raw["human_answer"]) or is_blank(raw["question"]):
                skipped.setdefault("empty_turn", []).append(raw["where"])
                continue
            yield raw
