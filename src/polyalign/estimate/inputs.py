"""What the compute estimate counts with: corpus sizes, token lengths and model shapes.

Record counts are the paper's inventory after normalisation and dedup (docs/corpora.md, "Sizes").
Mean token lengths per corpus are *estimates* (the corpora have never been loaded on the project's
machines): a rendered prompt (question, context, history, chat template) and a human answer, in
Qwen2.5 tokens, from the sources' published descriptions. Model shapes are the checkpoints'
config.json values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SPLITS = ("train", "val", "test")

# corpus key -> (train, val, test) records, the paper's inventory (docs/corpora.md)
CORPUS_SIZES: dict[str, tuple[int, int, int]] = {
    "dolly": (13_525, 713, 757),
    "eli5": (91_772, 5_446, 7_786),
    "dailydialog": (37_377, 3_774, 3_681),
    "ms_marco": (80_143, 9_754, 9_399),
    "coqa": (98_015, 10_620, 7_983),
    "squad_v2": (117_444, 12_832, 11_870),
    "natural_questions": (90_133, 5_081, 5_017),
    "multiwoz": (56_013, 7_355, 7_362),
    "coig_cqia": (9_536, 509, 579),
    "hc3_chinese": (19_990, 1_152, 1_058),
    "oasst2_zh": (3_809, 527, 225),
    "cmrc2018": (10_142, 3_219, 1_002),
    "drcd": (26_936, 3_524, 3_493),
    "dureader": (15_923, 1_956, 0),
}

# corpus key -> (mean prompt tokens before the max_prompt_tokens cut, mean human answer tokens):
# estimates, not measurements (see the module docstring).
CORPUS_TOKENS: dict[str, tuple[int, int]] = {
    "dolly": (120, 90),
    "eli5": (60, 150),
    "dailydialog": (100, 15),
    "ms_marco": (300, 20),
    "coqa": (400, 5),
    "squad_v2": (190, 5),
    "natural_questions": (20, 140),
    "multiwoz": (150, 20),
    "coig_cqia": (80, 250),
    "hc3_chinese": (50, 150),
    "oasst2_zh": (150, 200),
    "cmrc2018": (400, 12),
    "drcd": (350, 10),
    "dureader": (300, 12),
}

# Length bins (4) times tracks: the strata a corpus can fill (multi-track corpora have first turns
# with an empty history, which are single-track records).
MULTI_TRACK = {"dailydialog", "coqa", "multiwoz", "oasst2_zh"}


def strata_per_corpus(corpus: str) -> int:
    return 4 * (2 if corpus in MULTI_TRACK else 1)


@dataclass(frozen=True)
class ModelShape:
    params: float  # parameters, embeddings included
    layers: int
    kv_heads: int
    head_dim: int

    def kv_bytes_per_token(self, bytes_per_value: int = 2) -> int:
        """KV-cache bytes one token holds (keys and values of every layer, bf16)."""
        return 2 * self.layers * self.kv_heads * self.head_dim * bytes_per_value


# hub id or preset name -> shape (config.json of each checkpoint)
MODEL_SHAPES: dict[str, ModelShape] = {
    "Qwen/Qwen2.5-0.5B": ModelShape(0.494e9, 24, 2, 64),
    "Qwen/Qwen2.5-1.5B": ModelShape(1.54e9, 28, 2, 128),
    "Qwen/Qwen2.5-3B": ModelShape(3.09e9, 36, 2, 128),
    "meta-llama/Llama-3.2-3B": ModelShape(3.21e9, 28, 8, 128),
    "google/gemma-2-2b": ModelShape(2.61e9, 26, 4, 256),
    "Qwen/Qwen3-8B": ModelShape(8.19e9, 36, 8, 128),
    "Qwen/Qwen2.5-7B-Instruct": ModelShape(7.62e9, 28, 4, 128),
    "meta-llama/Meta-Llama-3-8B": ModelShape(8.03e9, 32, 8, 128),
    "meta-llama/Meta-Llama-3-8B-Instruct": ModelShape(8.03e9, 32, 8, 128),
    "tiiuae/falcon-7b": ModelShape(7.22e9, 32, 1, 64),
    "tiiuae/falcon-7b-instruct": ModelShape(7.22e9, 32, 1, 64),
    "intfloat/multilingual-e5-large": ModelShape(0.56e9, 24, 16, 64),
}
PRESET_SOURCES = {
    "qwen2.5-0.5b": "Qwen/Qwen2.5-0.5B",
    "qwen2.5-1.5b": "Qwen/Qwen2.5-1.5B",
    "qwen2.5-3b": "Qwen/Qwen2.5-3B",
    "llama-3.2-3b": "meta-llama/Llama-3.2-3B",
    "gemma-2-2b": "google/gemma-2-2b",
}


def model_shape(name: str, where: str) -> ModelShape:
    """The shape of a model named by hub id or preset name; `where` names the config key."""
    shape = MODEL_SHAPES.get(PRESET_SOURCES.get(name, name))
    if shape is None:
        raise ValueError(
            f"{where}: no shape known for model {name!r}; the estimate knows {sorted(MODEL_SHAPES)} "
            "(add it to polyalign.estimate.inputs.MODEL_SHAPES)"
        )
    return shape


@dataclass(frozen=True)
class CorpusSplit:
    corpus: str
    split: str
    records: int
    prompt_tokens: float
    answer_tokens: float


def subsampled(n: int, strata: int, fraction: float, min_per_stratum: int) -> int:
    """Records a split of n records keeps under config `subsample`, an upper bound: each of its
    `strata` strata keeps max(min_per_stratum, ceil(fraction * size)) records, at most its size.
    With the bucket sizes unknown the bound takes ceil(fraction * n) plus the floor of every
    stratum (plus one per stratum for the rounding)."""
    if fraction >= 1:
        return n
    return min(n, math.ceil(fraction * n) + strata * (min_per_stratum + 1))


def corpus_splits(config: dict) -> list[CorpusSplit]:
    """Records and mean token lengths of every configured corpus and split, after the subsample
    and the prompt budget."""
    unknown = sorted(set(config["corpora"]) - set(CORPUS_SIZES))
    if unknown:
        raise ValueError(
            f"corpora: no documented size for {unknown} (the estimate covers the paper's 14 corpora: "
            f"{sorted(CORPUS_SIZES)})"
        )
    sub = config["subsample"]
    budget = config["prompt"]["max_prompt_tokens"]
    out = []
    for corpus in config["corpora"]:
        prompt, answer = CORPUS_TOKENS[corpus]
        for split, n in zip(SPLITS, CORPUS_SIZES[corpus], strict=True):
            kept = subsampled(n, strata_per_corpus(corpus), sub["fraction"], sub["min_per_stratum"])
            out.append(CorpusSplit(corpus, split, kept, min(prompt, budget), answer))
    return out
