"""Micro fixtures of the preference tests: hand-written train records, policy samples in the
generation JSONL layout, and a saved micro checkpoint (vocab <= 300, hidden 32, 2 layers)."""

import pytest

from polyalign.config import fill_defaults
from polyalign.prompts import render_prompt

MICRO_MODEL = {
    "vocab_size": 300,
    "hidden_size": 32,
    "num_layers": 2,
    "num_heads": 2,
    "intermediate_size": 64,
    "max_length": 160,
    "tokenizer_min_frequency": 1,
}
PROMPT = {"max_prompt_tokens": 120, "max_history_turns": 2}

QUESTIONS = [
    "how are you",
    "what is up",
    "where do you live",
    "do you like tea",
    "who are you",
    "what time is it",
    "are you ok",
    "tell me a joke",
]
HUMAN = [
    "fine thanks",
    "not much really",
    "in a small town",
    "yes with milk",
    "just a person",
    "about noon",
    "yes i am",
    "no jokes today",
]
MODEL = [
    "As an AI language model I cannot answer.",
    "I am a helpful assistant.",
    "As an AI I do not live anywhere.",
    "I am an AI and I cannot drink.",
    "I am a large language model.",
    "As an AI I cannot know the time.",
    "I am an AI assistant, I am fine.",
    "As an AI here is a joke.",
]


def record(i, language="en", length_bin="short", **kw):
    r = {
        "id": f"r{i}",
        "dataset": "toy",
        "split": "train",
        "language": language,
        "track": "single",
        "family": "dialogue",
        "situation": "open_chat",
        "length_bin": length_bin,
        "question": QUESTIONS[i % len(QUESTIONS)],
        "context": "",
        "history": [],
        "human_answer": HUMAN[i % len(HUMAN)],
        "meta": {},
    }
    r["bucket_id"] = f"{r['language']}|{r['track']}|{r['family']}|{r['length_bin']}"
    r.update(kw)
    return r


def sample_row(rec, output, sample=0, style="plain", finish="eos", prompt=None, length_bin=None):
    """A row as `generate.generate_records` writes it."""
    return {
        "id": rec["id"],
        "sample": sample,
        "system": "sft" if style == "plain" else "bucket_sft",
        "style": style,
        "prompt": prompt if prompt is not None else f"<prompt of {rec['id']}>",
        "profile_length": "sampled" if style == "profile" else None,
        "length_bin": length_bin,
        "prompt_tokens": 5,
        "output": output,
        "answer": output,
        "answer_found": True,
        "finish_reason": finish,
        "output_tokens": len(output.split()),
    }


@pytest.fixture(scope="session")
def micro(tmp_path_factory):
    """(checkpoint dir, tokenizer) of a randomly initialised micro Llama saved with save_pretrained."""
    from polyalign.models import build_model, save_model, train_tokenizer
    from polyalign.prompts import profile_text

    profiles = [
        profile_text(record(0, language=lang, length_bin=b), b)
        for lang in ("en", "zh")
        for b in ("short", "medium")
    ]
    texts = QUESTIONS + HUMAN + MODEL + profiles
    tok = train_tokenizer(texts * 3, MICRO_MODEL["vocab_size"], min_frequency=1)
    model = build_model(micro_settings(), tok)
    out = tmp_path_factory.mktemp("micro_start")
    save_model(model, tok, out)
    return out, tok


@pytest.fixture(scope="session")
def train_pairs(micro):
    """Eight HDPO-style pairs with real rendered profile prompts, fake critic scores and weights."""
    from polyalign.train.weights import pair_weights

    _, tok = micro
    recs = [
        record(i, language="en" if i < 6 else "zh", length_bin="short" if i % 3 else "medium")
        for i in range(8)
    ]
    pairs = []
    for i, r in enumerate(recs):
        prompt = render_prompt(r, tok, None, "profile", r["length_bin"], PROMPT["max_prompt_tokens"])
        pairs.append(
            {
                **r,
                "prompt": prompt,
                "style": "profile",
                "chosen": r["human_answer"],
                "rejected": MODEL[i],
                "rejected_finished": i % 4 != 3,
                "s_pos": 0.1 * (i % 3),
                "s_neg": 0.5 + 0.1 * i,
            }
        )
    w = pair_weights(
        [p["bucket_id"] for p in pairs],
        [p["language"] for p in pairs],
        [p["s_pos"] for p in pairs],
        [p["s_neg"] for p in pairs],
    )
    for p, wi in zip(pairs, w):
        p["weight"] = float(wi)
    return pairs


def micro_config(**preference):
    base = {
        "lr": 5e-3,
        "max_steps": 6,
        "micro_batch_size": 4,
        "grad_accum": 1,
        "schedule": "constant",
        "warmup_ratio": 0.0,
        "checkpoint_every": 0,
        "log_every": 1,
        "ref_batch_size": 3,
    }
    return fill_defaults(
        {"model": dict(MICRO_MODEL), "prompt": dict(PROMPT), "preference": {**base, **preference}}
    )


def micro_settings():
    """ModelSettings of the micro checkpoint (MICRO_MODEL over the schema's defaults)."""
    from polyalign.models import model_settings

    return model_settings(fill_defaults({"model": MICRO_MODEL})["model"])
