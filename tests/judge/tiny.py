"""A tiny randomly initialised judge (Llama architecture, its own tokenizer with a chat template),
saved as a model directory: the judge path runs end to end on it without any hub access."""

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from polyalign.judge.prompt import judge_user_message
from polyalign.metrics.judge import DIMENSIONS
from polyalign.models.tokenizer import train_tokenizer

RECORD = {
    "id": "r1",
    "language": "en",
    "track": "single",
    "family": "dialogue",
    "situation": "open_chat",
    "length_bin": "short",
    "question": "How are you?",
    "context": "",
    "history": [],
    "human_answer": "Fine, thanks.",
}


def build_tiny_judge(path) -> None:
    texts = [judge_user_message(RECORD, c) for c in ["Fine, thanks.", "ok", "你好，谢谢。"]] * 3
    texts += [f"{d}: {s}" for d in DIMENSIONS for s in range(1, 6)] * 3
    tok = train_tokenizer(texts, vocab_size=600, min_frequency=1)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=8192,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(path)
    tok.save_pretrained(path)
