"""A tiny random causal LM and byte-level BPE tokenizer, built offline for the LM tests."""

import pytest
import torch

from ..conftest import build_tiny_llama, build_tiny_tokenizer

CORPUS = [
    "Hello, world! How are you?",
    "你好，世界！你好吗？",
    "The cat sat on the mat.",
    "我喜欢读书。",
    "Answer: yes, of course.",
] * 5


def make_tokenizer(bos: str | None = "<s>", eos: str | None = "</s>"):
    return build_tiny_tokenizer(CORPUS, vocab_size=320, bos=bos, eos=eos, pad="<pad>")


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return make_tokenizer()


@pytest.fixture(scope="session")
def tiny_llama(tiny_tokenizer):
    # One intra-op thread: the tiny model is overhead-bound and the CI cores are shared.
    torch.set_num_threads(1)
    return build_tiny_llama(len(tiny_tokenizer))


@pytest.fixture(scope="session")
def make_tiny_tokenizer():
    return make_tokenizer
