"""Micro records, tokenizer and model shared by the model, prompt, training and generation tests."""

from __future__ import annotations

from functools import lru_cache

import pytest
import torch

from polyalign.config import fill_defaults
from polyalign.generation.generate import GenerationSettings
from polyalign.models import ModelSettings, build_model, model_settings, train_tokenizer
from polyalign.models.tokenizer import record_texts

MICRO_MODEL = {
    "vocab_size": 300,
    "hidden_size": 32,
    "num_layers": 2,
    "num_heads": 2,
    "intermediate_size": 64,
    "max_length": 128,
    "seed": 0,
}
PROMPT = {"max_prompt_tokens": 80, "max_history_turns": 4}

EN = [
    ("Hi, how are you today?", "Pretty good, thanks. You?"),
    ("What do you do for fun?", "I play soccer on weekends and read a lot."),
    ("Do you like pizza?", "Yes, pepperoni is my favorite."),
    ("Where are you from?", "A small town in Utah."),
    ("What is AI?", "The science of building machines that think."),
    ("Any plans for the summer?", "We might drive to the coast for a week."),
]
ZH = [
    ("你好吗？", "挺好的，谢谢。"),
    ("你喜欢什么运动？", "我喜欢打篮球和游泳。"),
    ("今天天气怎么样？", "今天是晴天，很暖和。"),
    ("你会说英语吗？", "会一点。"),
]

# greedy decoding of a few tokens: the settings the generation and decoding tests share
GREEDY = GenerationSettings(
    max_new_tokens=10,
    do_sample=False,
    temperature=1.0,
    top_p=1.0,
    batch_size=8,
    seed=0,
    num_samples=1,
    cot_extra_tokens=5,
    length_check_quantile=None,
    part_rows=1024,
    budget_quantile=None,
    budget_headroom=1.25,
    system_max_new_tokens={},
)


def record(
    i: int,
    language: str = "en",
    history=None,
    length_bin: str = "short",
    family: str = "dialogue",
    question: str | None = None,
    answer: str | None = None,
    context: str = "",
) -> dict:
    pairs = EN if language == "en" else ZH
    q, a = pairs[i % len(pairs)]
    history = history or []
    track = "multi" if history else "single"
    situation = {"dialogue": "open_chat", "qa": "qa_search", "assistant": "assistant_like"}[family]
    return {
        "id": f"{language}-{i}",
        "dataset": "micro",
        "split": "train",
        "language": language,
        "track": track,
        "family": family,
        "situation": situation,
        "length_bin": length_bin,
        "question": question or q,
        "context": context,
        "history": history,
        "human_answer": answer or a,
        "bucket_id": f"{language}|{track}|{family}|{length_bin}",
        "meta": {},
    }


def micro_records() -> list[dict]:
    """24 records: en and zh, single and multi track, two length bins, three bucket sizes."""
    out = []
    for i in range(16):
        hist = (
            []
            if i % 2 == 0
            else [
                {"role": "user", "text": EN[(i + 1) % 6][0]},
                {"role": "assistant", "text": EN[(i + 1) % 6][1]},
            ]
        )
        out.append(record(i, "en", hist, "short" if i % 3 else "medium"))
    for i in range(8):
        out.append(record(16 + i, "zh", [], "short" if i < 6 else "medium"))
    return out


@lru_cache(maxsize=1)
def _tokenizer_json() -> str:
    from polyalign.prompts import COT_INSTRUCTION, profile_text

    texts = list(record_texts(micro_records())) + [COT_INSTRUCTION, profile_text(record(0), "short")]
    return train_tokenizer(texts * 3, MICRO_MODEL["vocab_size"], min_frequency=1).backend_tokenizer.to_str()


def micro_tokenizer():
    """A fresh (mutable) copy of the micro tokenizer, trained once per session."""
    from tokenizers import Tokenizer

    from polyalign.models import prepare_tokenizer
    from polyalign.models.tokenizer import wrap_tokenizer

    return prepare_tokenizer(wrap_tokenizer(Tokenizer.from_str(_tokenizer_json())))


def micro_settings(**overrides) -> ModelSettings:
    """ModelSettings of the micro model: MICRO_MODEL (and `overrides`) over the schema's defaults."""
    return model_settings(fill_defaults({"model": {**MICRO_MODEL, **overrides}})["model"])


def micro_model(tokenizer, **overrides):
    return build_model(micro_settings(**overrides), tokenizer)


@pytest.fixture(autouse=False)
def one_thread():
    """Micro models are far faster on one thread, above all on a loaded machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
