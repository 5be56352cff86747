"""The hand-written metrics against maintained implementations: AUROC against scikit-learn,
BLEU against sacrebleu (its zh tokenizer, floor smoothing = Chen & Cherry method 1), ROUGE-L
against Google's rouge-score, on English, Chinese and mixed-script cases."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from polyalign.detectors.summary import _auroc_rows, auroc
from polyalign.metrics.detectors import detector_auroc
from polyalign.metrics.diversity import sentence_bleu
from polyalign.metrics.tokenize import answer_tokens
from polyalign.metrics.utility import rouge_l_f1

sacrebleu = pytest.importorskip("sacrebleu")
rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")


def sklearn_auroc(pos, neg):
    return roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg])


@pytest.mark.parametrize("seed", range(5))
def test_auroc_equals_scikit_learn_with_ties(seed):
    rng = np.random.default_rng(seed)
    pos = rng.integers(0, 6, size=23).astype(float)  # few distinct values: many ties
    neg = rng.integers(0, 5, size=31).astype(float)
    expected = sklearn_auroc(pos, neg)
    assert auroc(pos, neg) == pytest.approx(expected, abs=1e-12)
    assert detector_auroc(pos, neg) == pytest.approx(expected, abs=1e-12)
    assert detector_auroc(-pos, -neg, higher_is_ai=False) == pytest.approx(expected, abs=1e-12)
    rows = _auroc_rows(np.stack([pos, neg[:23]]), np.stack([neg, np.r_[pos, pos[:8]]]))
    assert rows[0] == pytest.approx(expected, abs=1e-12)
    assert rows[1] == pytest.approx(sklearn_auroc(neg[:23], np.r_[pos, pos[:8]]), abs=1e-12)


BLEU_CASES = [
    ("the cat sat on the mat today", ["the cat is on the mat today", "a cat sat on a mat"]),
    ("我今天在家里看了一本很好的书", ["我今天在家看了一本好书", "今天我在家里读了一本书"]),
    (
        "我用 Python 写了 3 个 scripts 来处理数据",
        ["我用 Python 写了三个脚本处理 data", "用 Python 处理数据的 scripts"],
    ),
    ("hello 你好 world 世界 again", ["hello world 你好世界", "你好 again world"]),
]


@pytest.mark.parametrize("hypothesis, references", BLEU_CASES)
def test_sentence_bleu_equals_sacrebleu_with_its_zh_tokenizer(hypothesis, references):
    from sacrebleu.tokenizers.tokenizer_zh import TokenizerZh

    tokenize = TokenizerZh()
    bleu = sacrebleu.metrics.BLEU(
        tokenize="zh", smooth_method="floor", smooth_value=0.1, effective_order=False
    )
    expected = bleu.sentence_score(hypothesis, references).score / 100
    ours = sentence_bleu(tokenize(hypothesis).split(), [tokenize(r).split() for r in references], epsilon=0.1)
    assert 0 < expected < 1
    assert ours == pytest.approx(expected, abs=1e-9)


class AnswerTokenizer:
    """rouge-score's tokenizer interface over the tokens QA-F1 and ROUGE-L use."""

    def __init__(self, language):
        self.language = language

    def tokenize(self, text):
        return answer_tokens(text, self.language)


ROUGE_CASES = [
    ("en", "police killed gunman in shooting yesterday", "gunman was killed by police yesterday"),
    ("en", "large language models write fluent text", "fluent text comes from large models"),
    ("zh", "我今天在家里看了一本很好的书。", "今天我在家看了一本好书"),
    ("zh", "我用Python写了3个脚本处理数据", "用 Python 处理数据的脚本有三个"),
]


@pytest.mark.parametrize("language, prediction, reference", ROUGE_CASES)
def test_rouge_l_equals_rouge_score(language, prediction, reference):
    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=AnswerTokenizer(language))
    expected = scorer.score(reference, prediction)["rougeL"].fmeasure
    assert 0 < expected < 1
    assert rouge_l_f1(prediction, reference, language) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("language, prediction, reference", ROUGE_CASES[:2])
def test_english_rouge_l_equals_rouge_score_with_its_own_tokenizer(language, prediction, reference):
    """Lower-case words without articles or punctuation: both tokenizers give the same words."""
    expected = rouge_scorer.RougeScorer(["rougeL"]).score(reference, prediction)["rougeL"].fmeasure
    assert rouge_l_f1(prediction, reference, language) == pytest.approx(expected, abs=1e-12)
