"""Tiny random checkpoints of the three real architectures of the paper's model families
(Qwen2, Llama, Gemma2), each with a byte-level BPE tokenizer carrying its family's special
tokens and chat template (tests/fixtures/chat_templates/<family>/tokenizer_config.json), saved
with save_pretrained exactly like a downloaded model. Built at test time in a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    Gemma2Config,
    Gemma2ForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
)

TEMPLATES = Path(__file__).resolve().parent / "fixtures" / "chat_templates"
FAMILIES = ("qwen2", "llama3", "gemma2")
# The paper's 14 corpora, in the paper's order (the spec the loaders and the paper profile meet).
PAPER_CORPORA = (
    "dolly",
    "eli5",
    "dailydialog",
    "ms_marco",
    "coqa",
    "squad_v2",
    "natural_questions",
    "multiwoz",
    "coig_cqia",
    "hc3_chinese",
    "oasst2_zh",
    "cmrc2018",
    "drcd",
    "dureader",
)

_TEXTS = [
    "What is the capital of France? Paris is the capital of France.",
    "Tell me about the library. The town library opened in 1921 and moved in 1988.",
    "How are you today? I am fine, thanks for asking. What about you?",
    "Summarize the paragraph in one sentence, please, with the key facts only.",
    "中国的首都是哪里？北京是中国的首都。今天天气很好，我们去公园散步吧。",
    "请简要回答这个问题。这个问题的答案在文章的第二段。谢谢你的帮助！",
]


def _tokenizer(family: str, vocab_size: int = 640) -> PreTrainedTokenizerFast:
    cfg = json.loads((TEMPLATES / family / "tokenizer_config.json").read_text(encoding="utf-8"))
    special = [t for t in (cfg["bos_token"], cfg["eos_token"], cfg["pad_token"], cfg["unk_token"]) if t]
    special = list(dict.fromkeys(special + cfg["additional_special_tokens"]))
    tok = Tokenizer(models.BPE(unk_token=cfg["unk_token"]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_TEXTS * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=cfg["bos_token"],
        eos_token=cfg["eos_token"],
        pad_token=cfg["pad_token"],
        unk_token=cfg["unk_token"],
        additional_special_tokens=cfg["additional_special_tokens"],
        chat_template=cfg["chat_template"],
        clean_up_tokenization_spaces=False,
    )


def _config(family: str, tokenizer, hidden: int, layers: int):
    ids = {
        "vocab_size": len(tokenizer),
        "eos_token_id": tokenizer.eos_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    common = {
        "hidden_size": hidden,
        "intermediate_size": 2 * hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 4096,
        "tie_word_embeddings": True,
        **ids,
    }
    if family == "qwen2":
        return Qwen2ForCausalLM, Qwen2Config(**common)
    if family == "llama3":
        return LlamaForCausalLM, LlamaConfig(**common, rope_theta=500000.0)
    if family == "gemma2":
        return Gemma2ForCausalLM, Gemma2Config(
            **common,
            head_dim=hidden // 4,
            query_pre_attn_scalar=hidden // 4,
            sliding_window=64,
            attn_logit_softcapping=50.0,
            final_logit_softcapping=30.0,
        )
    raise ValueError(f"unknown family {family!r} (known: {FAMILIES})")


def build_tiny_checkpoint(family: str, out_dir, hidden: int = 32, layers: int = 2, seed: int = 0) -> Path:
    """A randomly initialised `family` model + tokenizer saved into `out_dir` (safetensors)."""
    tokenizer = _tokenizer(family)
    cls, config = _config(family, tokenizer, hidden, layers)
    torch.manual_seed(seed)
    model = cls(config)
    out = Path(out_dir)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


# config/paper.yaml's local-copy corpora (not loadable from the hub) -> their test fixtures
LOCAL_CORPORA = {
    "data/paper/eli5_category": "eli5",
    "data/paper/multiwoz/data/MultiWOZ_2.2": "multiwoz",
    "data/paper/dureader": "dureader",
}


def link_local_corpora(work: Path) -> None:
    """Put the fixture copies where config/paper.yaml expects the local corpora (dry runs)."""
    fixtures = Path(__file__).resolve().parent / "fixtures" / "corpora"
    for rel, key in LOCAL_CORPORA.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).symlink_to(fixtures / key, target_is_directory=True)
