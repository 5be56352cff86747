import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


def make_raw(**overrides) -> dict:
    """A valid raw record (the loader output schema) with fields overridable by keyword."""
    raw = {
        "dataset": "toy", "language": "en", "family": "dialogue", "situation": "open_chat",
        "question": "How are you?", "context": "", "history": [], "human_answer": "Fine, thanks.",
        "source_split": None, "split_key": "toy:1", "where": "toy.jsonl:1",
        "meta": {"source_id": "1"},
    }
    raw.update(overrides)
    return raw


def build_tiny_tokenizer(corpus: list[str], vocab_size: int = 320, bos: str | None = "<s>",
                         eos: str | None = "</s>", pad: str | None = "<pad>"):
    """A byte-level BPE tokenizer trained offline on `corpus` (special tokens <s>, </s> and, when
    `pad` is given, <pad>; bos/eos None leave the tokenizer without that token)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    special = ["<s>", "</s>"] + ([pad] if pad else [])
    tok.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    kwargs = {name: value for name, value in (("bos_token", bos), ("eos_token", eos), ("pad_token", pad)) if value}
    return PreTrainedTokenizerFast(tokenizer_object=tok, **kwargs)


TINY_LLAMA = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 128}


def build_tiny_llama(vocab_size: int, seed: int = 0, **overrides):
    """A random LlamaForCausalLM of TINY_LLAMA's size (keys overridable), in eval mode, its
    weights fixed by `seed`. The project's own model factory is tested with tests/models/micro.py."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(vocab_size=vocab_size, **{**TINY_LLAMA, **overrides})).eval()


@pytest.fixture(scope="session")
def tiny_lm():
    """The one tiny-model builder of the tests: tiny_lm(vocab_size, seed=0, **config overrides)."""
    return build_tiny_llama
