"""A character-level BPE tokenizer trained from scratch on the train split (embedded profile).

Why characters, not bytes: a byte-level BPE of a few thousand merges trained on mostly English
text keeps most Chinese characters as 2–3 byte tokens, so Chinese costs ~2 tokens per
character and a sampled sequence can end (or go on) in the middle of a character, which decodes
to U+FFFD. Here the base alphabet is every character of the training texts (plus printable
ASCII), the pre-tokenizer isolates every CJK character (`CJK_PATTERN`) so it is exactly one
token and never merged, and BPE merges build English subwords on top. The vocabulary holds no
byte tokens, so every token decodes to whole characters: no decoded sequence of ids, cut
anywhere, can contain U+FFFD. A character never seen in training encodes as <unk> (a special
token, dropped when decoding with skip_special_tokens); `tokenizer_report` counts them.

The result is a `PreTrainedTokenizerFast` with bos/eos/pad/unk, three role markers and a Jinja
chat template, so the scratch model goes through exactly the code path of a hub model
(`apply_chat_template`, `save_pretrained`, `AutoTokenizer.from_pretrained`).

Chat format (every turn, assistant turns included, ends with eos, so generation stops on eos):

    <s><|system|>\n{system}</s>\n<|user|>\n{question}</s>\n<|assistant|>\n{answer}</s>
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

BOS, EOS, PAD, UNK = "<s>", "</s>", "<pad>", "<unk>"
ROLE_MARKERS = ("<|system|>", "<|user|>", "<|assistant|>")
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK, *ROLE_MARKERS)  # ids 0..6 in this order
SPACE_MARK = "▁"  # spaces are written as this mark inside tokens (a word keeps its leading space)
# CJK radicals, symbols and punctuation, kana, bopomofo, ideographs (ext. A, unified,
# compatibility) and full-width forms: each such character is its own pre-token.
CJK_RANGES = (
    r"\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff"
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
)
CJK_PATTERN = f"[{CJK_RANGES}]"
_CJK = re.compile(CJK_PATTERN)

CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)


def is_cjk(char: str) -> bool:
    return bool(_CJK.fullmatch(char))


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


def base_alphabet(texts: list[str]) -> list[str]:
    """Printable ASCII, the space mark and every character of `texts` (sorted: deterministic).
    U+FFFD in a training text is an upstream decoding error and is refused."""
    chars = set(string.printable) | {SPACE_MARK}
    for t in texts:
        chars.update(t)
    if "\ufffd" in chars:
        raise ValueError("tokenizer corpus contains U+FFFD (a broken upstream decoding); fix the data")
    chars.discard(" ")  # spaces become SPACE_MARK before the model sees them
    return sorted(chars)


def train_tokenizer(texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> PreTrainedTokenizerFast:
    """Train the character-level BPE on `texts` (consumed in order; same texts → same
    tokenizer.json). Every character of `texts` is in the vocabulary; CJK characters are never
    merged. `vocab_size` must leave room for the alphabet and the special tokens."""
    texts = list(texts)
    alphabet = base_alphabet(texts)
    floor = len(alphabet) + len(SPECIAL_TOKENS)
    if vocab_size < floor:
        raise ValueError(
            f"vocab_size {vocab_size} is below the {len(alphabet)} base characters of the training "
            f"texts + {len(SPECIAL_TOKENS)} special tokens = {floor}"
        )
    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CJK_PATTERN), behavior="isolated"),
            pre_tokenizers.Metaspace(replacement=SPACE_MARK, prepend_scheme="never", split=True),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=SPACE_MARK, prepend_scheme="never", split=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=alphabet,
        limit_alphabet=len(alphabet),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
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
