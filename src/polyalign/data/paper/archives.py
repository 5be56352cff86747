"""Paper corpora distributed as plain files outside the Hugging Face hub: ELI5-Category
(json.gz) and DuReader robust + checklist (tar.gz). `path` must name a local directory holding
the downloaded files under their original names (see docs/corpora.md for the URLs).
"""

from __future__ import annotations

import gzip
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...io import InputError, decode_utf8, read_utf8
from ..registry import register
from ._common import Corpus, Emitter, as_rows, col, digest, first_text, is_truthy, load_json_text, require_dir

ELI5 = Corpus("eli5", "en", "qa", "longform_qa")
DUREADER = Corpus("dureader", "zh", "qa", "qa_search")

ELI5_FILES = {  # file -> (source split name, target split)
    "eli5-category-train.json.gz": ("train", "train"),
    "eli5-category-validation-1.json.gz": ("validation1", "val"),
    "eli5-category-validation-2.json.gz": ("validation2", "test"),
    "eli5-category-test.json.gz": ("test", "test"),
}


def _read_gz_json(path: Path) -> Any:
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise InputError(f"{path}: not a readable gzip file ({e})") from None
    return load_json_text(decode_utf8(data, f"{path} (decompressed)"), str(path))


def best_answer(answers: list[dict]) -> dict | None:
    """Highest-scored non-empty answer; the first one wins a tie."""
    best = None
    for a in answers:
        text = a.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        score = a.get("score")
        score = score if isinstance(score, (int, float)) else float("-inf")
        if best is None or score > best[0]:
            best = (score, a)
    return best[1] if best else None


@register(
    "eli5", description="ELI5-Category json.gz (train, validation-1 -> val, validation-2 + test -> test)"
)
def load_eli5(source: dict) -> Iterator[dict]:
    """Layout (the files the huggingface/datasets eli5_category script downloaded from
    https://jingshensn2.github.io/eli5c/datasets/): ``eli5-category-train.json.gz``,
    ``-validation-1``, ``-validation-2`` and ``-test``; each is one gzipped JSON list of
    questions {q_id, title, selftext, category, subreddit, answers: {a_id: [str], text: [str],
    score: [int], text_urls: [[str]]}, title_urls, selftext_urls}.

    question = title, plus a blank line and selftext when it is non-empty; answer = the
    highest-scored non-empty answer; questions without one are skipped. Official splits:
    validation-1 -> val; validation-2 (the Repost category) and test -> test.
    """
    em = Emitter(ELI5, source)
    root = Path(require_dir(source, "eli5", "the four eli5-category-*.json.gz files"))
    for name, (split, target) in ELI5_FILES.items():
        path = root / name
        if not path.is_file():
            raise InputError(f"{path}: file not found")
        data = _read_gz_json(path)
        if not isinstance(data, list):
            raise InputError(f"{path}: expected a JSON list of questions")
        for i, row in enumerate(data):
            where = f"{path}:row {i}"
            if em.is_known_bad(where):
                continue
            qid = col(row, "q_id", where)
            title = col(row, "title", where)
            selftext = col(row, "selftext", where, default="")
            answers = as_rows(col(row, "answers", where, kind=(dict, list)), where, "answers")
            if not title.strip():
                em.skip("empty_question")
                continue
            best = best_answer(answers)
            if best is None:
                em.skip("no_answer")
                continue
            question = f"{title}\n\n{selftext}" if selftext.strip() else title
            rec = em.record(
                question=question,
                answer=best["text"],
                source_id=qid,
                split_key=qid,
                source_split=target,
                where=where,
                meta={
                    "source_split": split,
                    "category": row.get("category"),
                    "answer_id": best.get("a_id"),
                    "answer_score": best.get("score"),
                    "n_answers": len(answers),
                },
            )
            if rec:
                yield rec


DUREADER_ARCHIVES = {  # subset -> (archive, directory inside it)
    "robust": ("dureader_robust-data.tar.gz", "dureader_robust-data"),
    "checklist": ("dureader_checklist.dataset.tar.gz", "dataset"),
}
DUREADER_SPLITS = {"train": "train", "dev": "val"}  # the test files have no answers


def _dureader_json(root: Path, subset: str, split: str) -> tuple[Any, str]:
    archive, inner = DUREADER_ARCHIVES[subset]
    extracted = root / inner / f"{split}.json"
    if extracted.is_file():  # an already unpacked archive is accepted too
        return load_json_text(read_utf8(extracted), str(extracted)), str(extracted)
    path = root / archive
    if not path.is_file():
        raise InputError(f"{path}: file not found (DuReader {subset} archive)")
    try:
        with tarfile.open(path, "r:*") as tf:
            names = [
                m.name for m in tf.getmembers() if m.isfile() and m.name.rsplit("/", 1)[-1] == f"{split}.json"
            ]
            if len(names) != 1:
                raise InputError(f"{path}: expected one member named {split}.json, found {names or 'none'}")
            fh = tf.extractfile(names[0])
            text = decode_utf8(fh.read(), f"{path}!{names[0]}")
    except tarfile.TarError as e:
        raise InputError(f"{path}: not a readable tar archive ({e})") from None
    where = f"{path}!{names[0]}"
    return load_json_text(text, where), where


@register("dureader", description="DuReader robust + checklist archives (train, dev; no test)")
def load_dureader(source: dict) -> Iterator[dict]:
    """Layout (the archives the luozhouyang/dureader loading script points at, as published by
    Baidu and read by PaddleNLP's dureader_robust / dureader_checklist builders):
    ``dureader_robust-data.tar.gz`` -> ``dureader_robust-data/{train,dev,test}.json`` and
    ``dureader_checklist.dataset.tar.gz`` -> ``dataset/{train,dev}.json``. Each file is
    SQuAD-style JSON {data: [{title, paragraphs: [{context, qas: [{id, question, answers:
    [{text, answer_start}], (checklist:) type, is_impossible}]}]}]}.

    Records: answer = first non-empty answer text; unanswerable checklist questions
    (is_impossible) and questions without an answer are skipped. Official train and dev (-> val);
    the test files carry no answers and are not read. A paragraph is the split group.
    """
    em = Emitter(DUREADER, source)
    root = Path(
        require_dir(source, "dureader", "dureader_robust-data.tar.gz and dureader_checklist.dataset.tar.gz")
    )
    for subset in source.get("subsets", list(DUREADER_ARCHIVES)):
        if subset not in DUREADER_ARCHIVES:
            raise InputError(f"corpora.dureader.subsets: unknown subset {subset!r}")
        for split, target in DUREADER_SPLITS.items():
            data, fwhere = _dureader_json(root, subset, split)
            articles = col(data, "data", fwhere, kind=list) if isinstance(data, dict) else None
            if articles is None:
                raise InputError(f"{fwhere}: expected an object with a 'data' list")
            for a_i, article in enumerate(articles):
                awhere = f"{fwhere}: data[{a_i}]"
                for p_i, para in enumerate(
                    as_rows(col(article, "paragraphs", awhere, kind=list), awhere, "paragraphs")
                ):
                    pwhere = f"{awhere}.paragraphs[{p_i}]"
                    context = col(para, "context", pwhere)
                    for q_i, qa in enumerate(as_rows(col(para, "qas", pwhere, kind=list), pwhere, "qas")):
                        qwhere = f"{pwhere}.qas[{q_i}]"
                        if em.is_known_bad(qwhere):
                            continue
                        qid = str(col(qa, "id", qwhere, kind=(str, int)))
                        question = col(qa, "question", qwhere)
                        if is_truthy(qa.get("is_impossible")):
                            em.skip("impossible")
                            continue
                        answer = first_text(
                            a.get("text") for a in as_rows(qa.get("answers"), qwhere, "answers")
                        )
                        if not question.strip():
                            em.skip("empty_question")
                            continue
                        if not answer:
                            em.skip("no_answer")
                            continue
                        rec = em.record(
                            question=question,
                            context=context,
                            answer=answer,
                            source_id=f"{subset}:{split}:{qid}",
                            split_key=digest(context),
                            source_split=target,
                            where=qwhere,
                            meta={
                                "source_split": split,
                                "subset": subset,
                                "qa_id": qid,
                                "title": article.get("title"),
                                "qa_type": qa.get("type"),
                            },
                        )
                        if rec:
                            yield rec
