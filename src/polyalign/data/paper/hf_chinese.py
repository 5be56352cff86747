"""Chinese paper corpora stored as Hugging Face dataset repositories: COIG-CQIA, HC3-Chinese,
CMRC2018 and DRCD. `path` defaults to the hub id and may name a local copy of the repository.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..registry import register
from ._common import Corpus, Emitter, as_rows, col, data_file_rows, digest, first_text, hf_rows, is_truthy

COIG = Corpus("coig_cqia", "zh", "assistant", "assistant_like")
HC3 = Corpus("hc3_chinese", "zh", "qa", "longform_qa")
CMRC = Corpus("cmrc2018", "zh", "qa", "qa_search")
DRCD = Corpus("drcd", "zh", "qa", "qa_search")

HASH_90_5_5 = {"train": 0.9, "val": 0.05, "test": 0.05}

COIG_SUBSETS = (
    "chinese_traditional",
    "coig_pc",
    "douban",
    "exam",
    "finance",
    "human_value",
    "logi_qa",
    "ruozhiba",
    "segmentfault",
    "wiki",
    "wikihow",
    "xhs",
    "zhihu",
)


@register(
    "coig_cqia", split_weights=HASH_90_5_5, description="m-a-p/COIG-CQIA, 13 subsets, human answers only"
)
def load_coig_cqia(source: dict) -> Iterator[dict]:
    """Layout (hub repo m-a-p/COIG-CQIA; README ``configs`` and tree seen on the hub, row format
    from the dataset card): one config per subset, each ``<subset>/*`` (jsonl files, e.g.
    ``ruozhiba/ruozhiba_ruozhiba.jsonl``), one split ``train``. Row columns: instruction, input,
    output, task_type {major, minor}, domain [str], metadata, answer_from ("human"/"llm"),
    human_verified (bool), copyright.

    Kept: non-empty output written by a human: answer_from == "human" where the column is set
    AND human_verified true where the column is set (the README says LLM answers were only
    verified, so a verified LLM answer is still not human-written). question = instruction,
    context = input, answer = output. Split: hash 90/5/5 on instruction + input, so one prompt
    stays in one split. `source["subsets"]` overrides the 13 default subsets (docs/corpora.md).
    """
    em = Emitter(COIG, source)
    for subset in source.get("subsets", COIG_SUBSETS):
        for i, (where, row) in enumerate(hf_rows(source, "m-a-p/COIG-CQIA", "train", name=subset)):
            if em.is_known_bad(where):
                continue
            instruction = col(row, "instruction", where)
            context = col(row, "input", where, default="")
            output = col(row, "output", where, default="")
            answer_from = row.get("answer_from")
            verified = row.get("human_verified")
            if answer_from is not None and str(answer_from).strip().lower() != "human":
                em.skip("answer_not_human")
                continue
            if verified is not None and not is_truthy(verified):
                em.skip("not_human_verified")
                continue
            if not output.strip():
                em.skip("empty_answer")
                continue
            if not instruction.strip():
                em.skip("empty_question")
                continue
            rec = em.record(
                question=instruction,
                context=context,
                answer=output,
                source_id=f"{subset}/{i}",
                split_key=digest(instruction, context),
                source_split=None,
                where=where,
                meta={
                    "source_split": "train",
                    "subset": subset,
                    "row": i,
                    "task_type": row.get("task_type"),
                    "domain": row.get("domain"),
                    "answer_from": answer_from,
                    "human_verified": verified,
                },
            )
            if rec:
                yield rec


@register(
    "hc3_chinese",
    split_weights=HASH_90_5_5,
    description="Hello-SimpleAI/HC3-Chinese all.jsonl, human answers",
)
def load_hc3_chinese(source: dict) -> Iterator[dict]:
    """Layout (hub repo Hello-SimpleAI/HC3-Chinese; file list from the PolyAlign authors'
    formatter and the HC3 project): per-domain jsonl files plus ``all.jsonl`` at the root and a
    loading script (HC3-Chinese.py) that datasets 5.x refuses to run, so ``all.jsonl`` is read
    with the json builder (``load_dataset("json", data_files=hf://datasets/.../all.jsonl)``).
    One line per question: question, human_answers [str], chatgpt_answers [str], source.

    One record per non-empty human answer; ChatGPT answers are never used. Split: hash 90/5/5
    per question (all answers to one question stay together).
    """
    em = Emitter(HC3, source)
    rel = source.get("file", "all.jsonl")
    for i, (where, row) in enumerate(data_file_rows(source, "Hello-SimpleAI/HC3-Chinese", "json", rel)):
        if em.is_known_bad(where):
            continue
        question = col(row, "question", where)
        answers = col(row, "human_answers", where, kind=list)
        if not question.strip():
            em.skip("empty_question")
            continue
        kept = [(k, a) for k, a in enumerate(answers) if isinstance(a, str) and a.strip()]
        em.skip("empty_human_answer", len(answers) - len(kept))
        if not kept:
            em.skip("question_without_human_answer")
            continue
        for k, answer in kept:
            rec = em.record(
                question=question,
                answer=answer,
                source_id=f"{i}:{k}",
                split_key=digest(question),
                source_split=None,
                where=f"{where} human_answers[{k}]",
                meta={
                    "source_split": "train",
                    "row": i,
                    "answer_index": k,
                    "domain": row.get("source"),
                    "n_human_answers": len(answers),
                },
            )
            if rec:
                yield rec


def squad_records(
    em: Emitter,
    *,
    where: str,
    qid: str,
    question: str,
    context: str,
    answers: list[dict],
    split: str,
    target: str,
    paragraph_key: str,
    meta: dict,
) -> dict | None:
    """Shared rule of the extractive Chinese QA corpora: answer = first non-empty answer text."""
    if not question.strip():
        em.skip("empty_question")
        return None
    answer = first_text(a.get("text") for a in answers)
    if not answer:
        em.skip("no_answer")
        return None
    return em.record(
        question=question,
        context=context,
        answer=answer,
        source_id=f"{split}:{qid}",
        split_key=paragraph_key,
        source_split=target,
        where=where,
        meta={"source_split": split, "n_answers": len(answers), **meta},
    )


@register("cmrc2018", description="hfl/cmrc2018 (train/validation/test)")
def load_cmrc2018(source: dict) -> Iterator[dict]:
    """Layout (hub repo hfl/cmrc2018 after its parquet conversion, seen in the conversion
    commit): ``data/{train,validation,test}-00000-of-00001.parquet`` (test = the CMRC trial
    set); columns id, context, question, answers {text: [str], answer_start: [int]}.

    answer = first non-empty answer text; rows without one are skipped. Official splits.
    """
    em = Emitter(CMRC, source)
    for split, target in (("train", "train"), ("validation", "val"), ("test", "test")):
        for where, row in hf_rows(source, "hfl/cmrc2018", split):
            if em.is_known_bad(where):
                continue
            context = col(row, "context", where)
            rec = squad_records(
                em,
                where=where,
                qid=col(row, "id", where),
                question=col(row, "question", where),
                context=context,
                answers=as_rows(col(row, "answers", where, kind=dict), where, "answers"),
                split=split,
                target=target,
                paragraph_key=digest(context),
                meta={},
            )
            if rec:
                yield rec


@register("drcd", description="voidful/DRCD (train/dev/test)")
def load_drcd(source: dict) -> Iterator[dict]:
    """Layout (hub repo voidful/DRCD: parquet files under ``data/`` pushed with push_to_hub, no
    README configs, splits named from the file names train/dev/test; the nesting is the
    original SQuAD-style DRCD JSON, seen in its dataset_infos.json and in public code reading
    it): one row per article with columns id, title, paragraphs [{id, context, qas: [{id,
    question, answers: [{id, text, answer_start}]}]}].

    One record per question: answer = first non-empty answer text; questions without one are
    skipped. Official splits (dev -> val). A paragraph is the split group.
    """
    em = Emitter(DRCD, source)
    for split, target in (("train", "train"), ("dev", "val"), ("test", "test")):
        for where, row in hf_rows(source, "voidful/DRCD", split):
            if em.is_known_bad(where):
                continue
            if "paragraphs" not in row and isinstance(row.get("data"), dict):
                row = row["data"]  # the article nested under one column, as in an older upload
            title = col(row, "title", where, default="")
            for p, para in enumerate(as_rows(col(row, "paragraphs", where, kind=list), where, "paragraphs")):
                pwhere = f"{where} paragraphs[{p}]"
                context = col(para, "context", pwhere)
                pid = col(para, "id", pwhere, default="") or digest(context)
                for q, qa in enumerate(as_rows(col(para, "qas", pwhere, kind=list), pwhere, "qas")):
                    qwhere = f"{pwhere} qas[{q}]"
                    rec = squad_records(
                        em,
                        where=qwhere,
                        qid=col(qa, "id", qwhere),
                        question=col(qa, "question", qwhere),
                        context=context,
                        answers=as_rows(qa.get("answers"), qwhere, "answers"),
                        split=split,
                        target=target,
                        paragraph_key=str(pid),
                        meta={"title": title, "paragraph_id": pid},
                    )
                    if rec:
                        yield rec
