"""Language fidelity on hand-made outputs."""

import pytest

from polyalign.metrics.fidelity import in_language, language_fidelity


def test_script_majority_decides():
    assert in_language("今天天气很好", "zh")
    assert not in_language("The weather is nice", "zh")
    assert in_language("The weather is nice", "en")
    # 3 CJK vs 3 Latin letters: not more than half either way
    assert not in_language("我喜欢abc", "zh") and not in_language("我喜欢abc", "en")
    # 4 CJK vs 3 Latin letters ("GPT"): mostly CJK
    assert in_language("我用GPT写作", "zh")
    assert not in_language("", "en") and not in_language("42 !", "en")  # no script character
    with pytest.raises(ValueError, match="unknown language"):
        in_language("bonjour", "fr")


def test_shares_per_language():
    texts = ["hello there", "你好", "hello", "", "ok 好"]
    langs = ["en", "zh", "zh", "en", "zh"]
    out = language_fidelity(texts, langs)
    assert out["per_example"].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]  # "ok 好": 2 Latin > 1 CJK
    assert out["per_language"] == {"en": 0.5, "zh": pytest.approx(1 / 3)}
    assert out["share"] == pytest.approx(2 / 5) and out["no_script"] == 1
