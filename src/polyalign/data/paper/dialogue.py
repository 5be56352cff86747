"""Multi-turn paper corpora: DailyDialog, MultiWOZ 2.2 and the Chinese part of OASST2.

History convention (the same as the embedded corpus): `question` is the turn right before the
answer; `history` holds the turns before the question, with roles relative to the responder
(the question is the user's turn, so the turn before it is "assistant", alternating backwards).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

from ...io import InputError, iter_utf8_lines, read_json
from ..registry import register
from ._common import (
    Corpus,
    Emitter,
    alternating_history,
    col,
    fetch_repo_file,
    hf_rows,
    is_truthy,
    require_dir,
)

DAILYDIALOG = Corpus("dailydialog", "en", "dialogue", "open_chat")
MULTIWOZ = Corpus("multiwoz", "en", "dialogue", "task_dialogue")
OASST2 = Corpus("oasst2_zh", "zh", "dialogue", "open_chat")

DD_SPLITS = {"train": "train", "validation": "val", "test": "test"}
EOU = "__eou__"


def _zip_member(zf: zipfile.ZipFile, archive: str, split: str) -> str:
    wanted = f"dialogues_{split}.txt"
    names = [n for n in zf.namelist() if n.rsplit("/", 1)[-1] == wanted]
    if len(names) != 1:
        raise InputError(f"{archive}: expected one member named {wanted}, found {names or 'none'}")
    return names[0]


@register("dailydialog", description="roskoN/dailydialog zips (train/validation/test)")
def load_dailydialog(source: dict) -> Iterator[dict]:
    """Layout (hub repo roskoN/dailydialog; its loading script is not runnable with datasets
    5.x, so the archives are read directly, as public code using hf_hub_download does):
    ``train.zip``, ``validation.zip``, ``test.zip`` at the root, each holding
    ``<split>/dialogues_<split>.txt`` (+ dialogues_act_/dialogues_emotion_ files, unused). One
    dialogue per line, utterances terminated by ``__eou__``.

    Records: every second-speaker turn t (odd index); question = utterance t-1, history = the
    turns before it. "Non-empty history" in the corpus description (docs/corpora.md) counts the question as history (the
    authors' convention), so turn 1 is kept; its history is empty, so its track is `single`.
    Official splits; a dialogue is the split group.
    """
    em = Emitter(DAILYDIALOG, source)
    for split, target in DD_SPLITS.items():
        archive = fetch_repo_file(source, "roskoN/dailydialog", f"{split}.zip")
        try:
            zf = zipfile.ZipFile(archive)
        except zipfile.BadZipFile as e:
            raise InputError(f"{archive}: not a zip archive ({e})") from None
        with zf:
            member = _zip_member(zf, archive, split)
            with zf.open(member) as fh:
                for lineno, line in iter_utf8_lines(fh, f"{archive}!{member}"):
                    if not line.strip():
                        continue
                    where = f"{archive}!{member}:{lineno}"
                    if em.is_known_bad(where):
                        continue
                    if EOU not in line:
                        raise InputError(f"{where}: dialogue line without '{EOU}' separators")
                    turns = [u.strip() for u in line.split(EOU)]
                    turns = [u for u in turns if u]
                    dialogue_id = f"{split}-{lineno}"
                    for t in range(1, len(turns), 2):
                        rec = em.record(
                            question=turns[t - 1],
                            answer=turns[t],
                            history=alternating_history(turns[: t - 1]),
                            source_id=f"{dialogue_id}:{t}",
                            split_key=dialogue_id,
                            source_split=target,
                            where=f"{where} turn {t}",
                            meta={"source_split": split, "dialogue_id": dialogue_id, "turn_index": t},
                        )
                        if rec:
                            yield rec


MWOZ_SPLITS = {"train": "train", "dev": "val", "test": "test"}
MWOZ_ROLES = {"USER": "user", "SYSTEM": "assistant"}


def _multiwoz_root(path: str) -> Path:
    root = Path(path)
    for candidate in (root, root / "MultiWOZ_2.2", root / "data" / "MultiWOZ_2.2"):
        if all((candidate / s).is_dir() for s in MWOZ_SPLITS):
            return candidate
    raise InputError(f"{path}: no train/, dev/ and test/ directories of MultiWOZ 2.2 dialogue files")


@register("multiwoz", description="MultiWOZ 2.2 dialogue json files (train/dev/test)")
def load_multiwoz(source: dict) -> Iterator[dict]:
    """Layout (github budzianowski/multiwoz ``data/MultiWOZ_2.2``, as the PolyAlign authors'
    formatter downloads it): ``train/dialogues_001..017.json``, ``dev/dialogues_001..002.json``,
    ``test/dialogues_001..002.json`` (+ dialog_acts.json, schema.json, unused). Each file is a
    JSON list of dialogues {dialogue_id, services, turns: [{turn_id, speaker: USER|SYSTEM,
    utterance, frames}]}. `path` is that MultiWOZ_2.2 directory (or the repository root).

    Records: every SYSTEM turn with a USER utterance before it; question = the latest USER
    utterance, history = the turns before that question (USER -> user, SYSTEM -> assistant).
    The first SYSTEM turn is kept (the authors counted the question as history); its history is
    empty, so its track is `single`.
    """
    em = Emitter(MULTIWOZ, source)
    root = _multiwoz_root(require_dir(source, "multiwoz", "the MultiWOZ 2.2 train/dev/test dialogue files"))
    for split, target in MWOZ_SPLITS.items():
        files = sorted((root / split).glob("dialogues_*.json"))
        if not files:
            raise InputError(f"{root / split}: no dialogues_*.json files")
        for path in files:
            dialogues = read_json(path)
            if not isinstance(dialogues, list):
                raise InputError(f"{path}: expected a JSON list of dialogues")
            for d_i, dialogue in enumerate(dialogues):
                dwhere = f"{path}: dialogue {d_i}"
                if em.is_known_bad(dwhere):
                    continue
                did = col(dialogue, "dialogue_id", dwhere)
                turns = col(dialogue, "turns", dwhere, kind=list)
                speakers, texts = [], []
                for t, turn in enumerate(turns):
                    twhere = f"{path}: dialogue {did} turn {t}"
                    speaker = col(turn, "speaker", twhere)
                    if speaker not in MWOZ_ROLES:
                        raise InputError(f"{twhere}: field 'speaker' is {speaker!r}, expected USER or SYSTEM")
                    speakers.append(speaker)
                    texts.append(col(turn, "utterance", twhere))
                for t, turn in enumerate(turns):
                    if speakers[t] != "SYSTEM":
                        continue
                    q = max((j for j in range(t) if speakers[j] == "USER"), default=None)
                    if q is None:
                        em.skip("no_question")
                        continue
                    if not texts[t].strip() or not texts[q].strip():
                        em.skip("empty_turn")
                        continue
                    history = [{"role": MWOZ_ROLES[speakers[j]], "text": texts[j]} for j in range(q)]
                    turn_id = str(turn.get("turn_id", t))
                    rec = em.record(
                        question=texts[q],
                        answer=texts[t],
                        history=history,
                        source_id=f"{did}:{turn_id}",
                        split_key=did,
                        source_split=target,
                        where=f"{path}: dialogue {did} turn {t}",
                        meta={
                            "source_split": split,
                            "dialogue_id": did,
                            "turn_id": turn_id,
                            "turn_index": t,
                            "services": dialogue.get("services"),
                            "file": f"{split}/{path.name}",
                        },
                    )
                    if rec:
                        yield rec


def is_chinese_lang(lang) -> bool:
    lang = str(lang or "").strip().lower()
    return lang == "zh" or lang.startswith(("zh-", "zh_"))


def _message_problem(msg: dict) -> str | None:
    """Why a message may not be in a kept chain, or None."""
    if msg.get("tree_state") != "ready_for_export":
        return "not_ready_for_export"
    if is_truthy(msg.get("deleted")):
        return "deleted"
    if msg.get("review_result") is not True:
        return "not_reviewed"
    if not is_chinese_lang(msg.get("lang")):
        return "not_chinese"
    if msg.get("role") not in ("prompter", "assistant"):
        return "bad_role"
    if not (msg.get("text") or "").strip():
        return "empty_text"
    return None


@register(
    "oasst2_zh",
    split_weights={"train": 0.9, "val": 0.1},
    description="OpenAssistant/oasst2 Chinese assistant replies (train hashed by tree; validation -> test)",
)
def load_oasst2_zh(source: dict) -> Iterator[dict]:
    """Layout (hub repo OpenAssistant/oasst2, README dataset_info and file list on the hub):
    ``data/train-00000-of-00001-*.parquet`` and ``data/validation-00000-of-00001-*.parquet``
    (the *.jsonl.gz tree exports at the root are not used); one row per message with columns
    message_id, parent_id, user_id, created_date, text, role (prompter/assistant), lang,
    review_count, review_result, deleted, rank, synthetic, model_name, detoxify,
    message_tree_id, tree_state, emojis, labels.

    Records: assistant messages whose whole chain (the message and every ancestor up to the
    root prompt) is in a ready_for_export tree, not deleted, reviewed positively
    (review_result true), Chinese (zh, zh-*, zh_*), with roles alternating from a prompter root;
    synthetic answers are dropped. question = the parent prompter message, history = the
    ancestors above it. Split: official train hashed 90/10 by message tree, validation -> test.
    """
    em = Emitter(OASST2, source)
    for split, target in (("train", None), ("validation", "test")):
        messages: dict[str, tuple[str, dict]] = {}
        order = []
        for where, row in hf_rows(source, "OpenAssistant/oasst2", split):
            if em.is_known_bad(where):
                continue
            mid = col(row, "message_id", where)
            col(row, "role", where)
            messages[mid] = (where, row)
            order.append(mid)
        for mid in order:
            where, msg = messages[mid]
            if msg["role"] != "assistant":
                continue
            if is_truthy(msg.get("synthetic")):
                em.skip("synthetic")
                continue
            chain, problem, cur = [], None, msg
            while cur is not None:
                problem = _message_problem(cur)
                if problem:
                    problem = problem if cur is msg else f"ancestor_{problem}"
                    break
                chain.append(cur)
                parent = cur.get("parent_id")
                if parent is None:
                    break
                if parent not in messages or len(chain) > len(messages):
                    problem = "missing_ancestor"
                    break
                cur = messages[parent][1]
            if not problem:
                chain.reverse()  # root prompt first
                expected = ["prompter" if i % 2 == 0 else "assistant" for i in range(len(chain))]
                if [m["role"] for m in chain] != expected:
                    problem = "roles_not_alternating"
            if problem:
                em.skip(problem)
                continue
            parent_msg = chain[-2]
            history = [
                {"role": "user" if m["role"] == "prompter" else "assistant", "text": m["text"]}
                for m in chain[:-2]
            ]
            tree = col(msg, "message_tree_id", where)
            rec = em.record(
                question=parent_msg["text"],
                answer=msg["text"],
                history=history,
                source_id=mid,
                split_key=tree,
                source_split=target,
                where=where,
                meta={
                    "source_split": split,
                    "message_tree_id": tree,
                    "parent_id": msg.get("parent_id"),
                    "lang": msg.get("lang"),
                    "rank": msg.get("rank"),
                    "review_count": msg.get("review_count"),
                    "depth": len(chain) - 1,
                },
            )
            if rec:
                yield rec
