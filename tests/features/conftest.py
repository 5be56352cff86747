"""A tiny random causal LM and byte-level BPE tokenizer, built offline for the LM tests."""
import pytest
import torch

CORPUS = ["Hello, world! How are you?", "你好，世界！你好吗？", "The cat sat on the mat.",
          "我喜欢读书。", "Answer: yes, of course."] * 5


def make_tokenizer(bos: str | None = "<s>", eos: str | None = "</s>"):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=["<s>", "</s>", "<pad>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    kwargs = {"pad_token": "<pad>"}
    if bos:
        kwargs["bos_token"] = bos
    if eos:
        kwargs["eos_token"] = eos
    return PreTrainedTokenizerFast(tokenizer_object=tok, **kwargs)


def make_llama(vocab_size: int, seed: int = 0):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=128)
    return LlamaForCausalLM(config).eval()


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return make_tokenizer()


@pytest.fixture(scope="session")
def tiny_llama(tiny_tokenizer):
    # One intra-op thread: the tiny model is overhead-bound and the CI cores are shared.
    torch.set_num_threads(1)
    return make_llama(len(tiny_tokenizer))


@pytest.fixture(scope="session")
def make_tiny_tokenizer():
    return make_tokenizer
