"""A byte-level BPE tokenizer trained from scratch on the train split (embedded profile).

The result is a `PreTrainedTokenizerFast` with bos/eos/pad/unk, three role markers and a Jinja
chat template, so the scratch model goes through exactly the code path of a hub model
(`apply_chat_template`, `save_pretrained`, `AutoTokenizer.from_pretrained`).

Chat format (every turn, assistant turns included, ends with eos, so generation stops on eos):

    <s><|system|>\n{system}</s>\n<|user|>\n{question}</s>\n<|assistant|>\n{answer}</s>
"""
from __future__ import annotations

from typing import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

BOS, EOS, PAD, UNK = "<s>", "</s>", "<pad>", "<unk>"
ROLE_MARKERS = ("<|system|>", "<|user|>", "<|assistant|>")
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK, *ROLE_MARKERS)  # ids 0..6 in this order

CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)


def record_texts(records: Iterable[dict]) -> Iterable[str]:
    """Every text a record contributes to the tokenizer corpus: question, context, history
    turns and the human answer (empty strings skipped)."""
    for r in records:
        yield r["question"]
        if r.get("context"):
            yield r["context"]
        for turn in r.get("history", ()):
            yield turn["text"]
        if r.get("human_answer"):
            yield r["human_answer"]


def train_tokenizer(texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE on `texts` (consumed in order; same texts → same tokenizer.json).

    The 256 byte symbols are always in the vocabulary, so any text, Chinese included, encodes
    without <unk> and decodes back exactly.
    """
    if vocab_size < 256 + len(SPECIAL_TOKENS):
        raise ValueError(f"vocab_size must be >= {256 + len(SPECIAL_TOKENS)}, got {vocab_size}")
    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    return wrap_tokenizer(tok)


def wrap_tokenizer(tok: Tokenizer) -> PreTrainedTokenizerFast:
    """The HF wrapper: special tokens, chat template, left padding for generation. No bos/eos is
    added by `tokenizer(text)`; the chat template writes them where they belong."""
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        additional_special_tokens=list(ROLE_MARKERS),
        chat_template=CHAT_TEMPLATE,
        padding_side="left",
        clean_up_tokenization_spaces=False,
        model_max_length=None,
    )
