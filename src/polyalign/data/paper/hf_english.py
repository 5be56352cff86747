"""English paper corpora stored as Hugging Face dataset repositories: Dolly, MS MARCO, CoQA,
SQuAD v2 and Natural Questions. Each is read with ``datasets.load_dataset(path, name, split)``;
`path` defaults to the hub id and may name a local copy of the repository.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...io import InputError
from ..registry import register
from ._common import Corpus, Emitter, alternating_history, as_rows, col, digest, first_text, hf_rows

DOLLY = Corpus("dolly", "en", "assistant", "assistant_like")
MS_MARCO = Corpus("ms_marco", "en", "qa", "qa_search")
COQA = Corpus("coqa", "en", "qa", "qa_search")
SQUAD_V2 = Corpus("squad_v2", "en", "qa", "qa_search")
NQ = Corpus("natural_questions", "en", "qa", "qa_search")

HASH_90_5_5 = {"train": 0.9, "val": 0.05, "test": 0.05}
HASH_90_10 = {"train": 0.9, "val": 0.1}


@register("dolly", split_weights=HASH_90_5_5, description="databricks/databricks-dolly-15k (train)")
def load_dolly(source: dict) -> Iterator[dict]:
    """Layout (hub repo databricks/databricks-dolly-15k, learned from the dataset card and the
    PolyAlign authors' formatter): one file ``databricks-dolly-15k.jsonl`` at the repository root,
    no loading script, one split ``train``; columns instruction, context, response, category.

    question = instruction, context = context, answer = response. No ids upstream: the row index
    is the source id. Split: hash 90/5/5 on instruction + response + category.
    """
    em = Emitter(DOLLY, source)
    for i, (where, row) in enumerate(hf_rows(source, "databricks/databricks-dolly-15k", "train")):
        if em.is_known_bad(where):
            continue
        instruction = col(row, "instruction", where)
        context = col(row, "context", where, default="")
        response = col(row, "response", where)
        category = col(row, "category", where, default="")
        if not instruction.strip():
            em.skip("empty_question")
            continue
        if not response.strip():
            em.skip("empty_answer")
            continue
        rec = em.record(
            question=instruction,
            context=context,
            answer=response,
            source_id=str(i),
            split_key=digest(instruction, response, category),
            source_split=None,
            where=where,
            meta={"source_split": "train", "row": i, "category": category},
        )
        if rec:
            yield rec


MS_MARCO_SPLITS = {"train": "train", "validation": "val", "test": "test"}
NO_ANSWER = "no answer present."


def marco_answer(row: dict, where: str) -> tuple[str, str]:
    """First non-empty well-formed answer, else first non-empty answer; MS MARCO's placeholder
    'No Answer Present.' counts as empty."""
    for column in ("wellFormedAnswers", "answers"):
        values = col(row, column, where, kind=list, default=[])
        for v in values:
            if isinstance(v, str) and v.strip() and v.strip().lower() != NO_ANSWER and v.strip() != "[]":
                return v, column
    return "", ""


@register("ms_marco", description="microsoft/ms_marco config v1.1 (train/validation/test)")
def load_ms_marco(source: dict) -> Iterator[dict]:
    """Layout (hub repo microsoft/ms_marco after its parquet conversion; file names seen in the
    repository tree and in public download scripts): config ``v1.1`` with
    ``v1.1/{train,validation,test}-00000-of-00001.parquet`` declared in the README ``configs``.
    Columns: query, query_id, query_type, answers (list), wellFormedAnswers (list),
    passages {is_selected: [int], passage_text: [str], url: [str]}.

    answer = first non-empty wellFormedAnswers, else first non-empty answers, else the row is
    skipped; context = the selected passages (else the first 3) joined by blank lines.
    """
    em = Emitter(MS_MARCO, source)
    config = source.get("config", "v1.1")
    for split, target in MS_MARCO_SPLITS.items():
        for where, row in hf_rows(source, "microsoft/ms_marco", split, name=config):
            if em.is_known_bad(where):
                continue
            query = col(row, "query", where)
            qid = col(row, "query_id", where, kind=int)
            answer, from_column = marco_answer(row, where)
            if not query.strip():
                em.skip("empty_question")
                continue
            if not answer:
                em.skip("no_answer")
                continue
            passages = as_rows(col(row, "passages", where, kind=dict), where, "passages")
            selected = [p for p in passages if p.get("is_selected") == 1]
            chosen = selected or passages[:3]
            context = "\n\n".join(
                p.get("passage_text") or "" for p in chosen if (p.get("passage_text") or "").strip()
            )
            rec = em.record(
                question=query,
                context=context,
                answer=answer,
                source_id=f"{split}:{qid}",
                split_key=str(qid),
                source_split=target,
                where=where,
                meta={
                    "source_split": split,
                    "query_id": qid,
                    "query_type": row.get("query_type"),
                    "answer_column": from_column,
                    "n_selected_passages": len(selected),
                },
            )
            if rec:
                yield rec


@register(
    "coqa",
    split_weights=HASH_90_10,
    description="stanfordnlp/coqa (train hashed by story; validation -> test)",
)
def load_coqa(source: dict) -> Iterator[dict]:
    """Layout (hub repo stanfordnlp/coqa after its parquet conversion, seen in the conversion
    pull request): ``data/{train,validation}-00000-of-00001.parquet``; one row per story with
    columns source, story, questions [str], answers {input_text: [str], answer_start: [int],
    answer_end: [int]}. There is no story id.

    One record per turn i: question = questions[i], answer = input_text[i], context = story,
    history = the earlier question/answer turns. Turns with an empty answer are skipped and left
    out of later histories. CoQA's free-form 'unknown' answers are kept and flagged in meta.
    Split: official train is hashed 90/10 by story, official validation -> test.
    """
    em = Emitter(COQA, source)
    for split, target in (("train", None), ("validation", "test")):
        for row_i, (where, row) in enumerate(hf_rows(source, "stanfordnlp/coqa", split)):
            if em.is_known_bad(where):
                continue
            story = col(row, "story", where)
            questions = col(row, "questions", where, kind=list)
            answers = as_rows(col(row, "answers", where, kind=dict), where, "answers")
            if len(questions) != len(answers):
                raise InputError(f"{where}: {len(questions)} questions but {len(answers)} answers")
            story_key = digest(story)
            prior: list[str] = []
            for t, (q, a) in enumerate(zip(questions, answers)):
                answer = a.get("input_text") or ""
                if not isinstance(q, str) or not q.strip():
                    em.skip("empty_question")
                    continue
                if not answer.strip():
                    em.skip("empty_answer")
                    continue
                rec = em.record(
                    question=q,
                    context=story,
                    answer=answer,
                    history=alternating_history(prior),
                    source_id=f"{split}/{row_i}/{t}",
                    split_key=story_key,
                    source_split=target,
                    where=f"{where} turn {t}",
                    meta={
                        "source_split": split,
                        "row": row_i,
                        "turn_index": t,
                        "story_id": story_key,
                        "story_source": row.get("source"),
                        "unknown_answer": answer.strip().lower() == "unknown",
                    },
                )
                prior += [q, answer]
                if rec:
                    yield rec


@register(
    "squad_v2",
    split_weights=HASH_90_10,
    description="rajpurkar/squad_v2 (train hashed by title+context; validation -> test)",
)
def load_squad_v2(source: dict) -> Iterator[dict]:
    """Layout (hub repo rajpurkar/squad_v2, file names from public download scripts): config
    ``squad_v2`` with ``squad_v2/{train,validation}-00000-of-00001.parquet``; columns id, title,
    context, question, answers {text: [str], answer_start: [int]}.

    answer = first answer text, or "" for unanswerable questions, which are kept and flagged
    meta["unanswerable"] = True. Split: official train hashed 90/10 by title + context (the
    paragraph), official validation -> test.
    """
    em = Emitter(SQUAD_V2, source)
    config = source.get("config", "squad_v2")
    for split, target in (("train", None), ("validation", "test")):
        for where, row in hf_rows(source, "rajpurkar/squad_v2", split, name=config):
            if em.is_known_bad(where):
                continue
            qid = col(row, "id", where)
            title = col(row, "title", where, default="")
            context = col(row, "context", where)
            question = col(row, "question", where)
            answers = as_rows(col(row, "answers", where, kind=dict), where, "answers")
            if not question.strip():
                em.skip("empty_question")
                continue
            answer = first_text(a.get("text") for a in answers)
            meta = {"source_split": split, "title": title}
            if not answer:
                meta["unanswerable"] = True
            rec = em.record(
                question=question,
                context=context,
                answer=answer,
                source_id=qid,
                split_key=digest(title, context),
                source_split=target,
                where=where,
                meta=meta,
            )
            if rec:
                yield rec


@register(
    "natural_questions",
    split_weights=HASH_90_5_5,
    description="sentence-transformers/natural-questions config pair (train)",
)
def load_natural_questions(source: dict) -> Iterator[dict]:
    """Layout (hub repo sentence-transformers/natural-questions; file name from public scripts
    and the parquet-export tree): config ``pair`` with ``pair/train-00000-of-00001.parquet``;
    columns query, answer (the answer is a Wikipedia passage). No ids: the row index is the
    source id. Split: hash 90/5/5 on the query, so a repeated question stays in one split.
    """
    em = Emitter(NQ, source)
    config = source.get("config", "pair")
    for i, (where, row) in enumerate(
        hf_rows(source, "sentence-transformers/natural-questions", "train", name=config)
    ):
        if em.is_known_bad(where):
            continue
        query = col(row, "query", where)
        answer = col(row, "answer", where)
        if not query.strip():
            em.skip("empty_question")
            continue
        if not answer.strip():
            em.skip("empty_answer")
            continue
        rec = em.record(
            question=query,
            answer=answer,
            source_id=str(i),
            split_key=digest(query),
            source_split=None,
            where=where,
            meta={"source_split": "train", "row": i},
        )
        if rec:
            yield rec
