"""Each detector scores with its own pair of models and tokenizer: tiny Llama-3 and Gemma-2
checkpoints (tests/paper_models.py, different vocabularies), loaded one pair at a time, text
only with a per-detector token budget, against the criteria computed from each pair's full
logits one text at a time."""

import gc
import weakref

import pytest
import torch

from polyalign.detectors.criteria import (
    binoculars_score,
    binoculars_terms,
    fast_detectgpt_criterion,
    fast_detectgpt_terms,
)
from polyalign.detectors.scoring import score_items
from polyalign.detectors.settings import detector_config
from polyalign.detectors.zero_shot import PairVocabularyError
from polyalign.models.runtime import load_for_inference

from ..paper_models import build_tiny_checkpoint

TEXTS = [
    "Paris is the capital of France.",
    "The town library opened in 1921 and moved in 1988, thanks for asking.",
    "北京是中国的首都。今天天气很好。",
    "",
]
BINOCULARS_BUDGET = 6


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("detector_pairs")
    spec = {
        "llama_a": ("llama3", 1),
        "llama_b": ("llama3", 2),
        "gemma_a": ("gemma2", 3),
        "gemma_b": ("gemma2", 4),
    }
    return {k: str(build_tiny_checkpoint(fam, root / k, seed=seed)) for k, (fam, seed) in spec.items()}


def _cfg(ck, fdg=("llama_a", "llama_b"), bino=("gemma_a", "gemma_b")):
    return detector_config(
        {
            "detectors": {
                "fast_detectgpt": {"scoring_model": ck[fdg[0]], "sampling_model": ck[fdg[1]]},
                "binoculars": {
                    "observer": ck[bino[0]],
                    "performer": ck[bino[1]],
                    "max_tokens": BINOCULARS_BUDGET,
                },
                "condition_on_prompt": False,
                "batch_size": 2,
                "device": "cpu",
                "dtype": "float32",
            }
        }
    )


def _items():
    records = {f"r{i}": {"id": f"r{i}", "language": "zh" if i == 2 else "en"} for i in range(len(TEXTS))}
    items = [{"system": "sft", "split": "test", "id": f"r{i}", "text": t} for i, t in enumerate(TEXTS)]
    return items, records


def _by_hand(first, second, text, budget, terms, criterion):
    """The criterion from the full logits of [bos] + the text's first `budget` tokens, alone."""
    (m1, tok), (m2, _) = (
        load_for_inference(p, device="cpu", dtype="float32", attn_implementation=None)
        for p in (first, second)
    )
    ids = [tok.bos_token_id] + tok(text, add_special_tokens=False)["input_ids"][:budget]
    x = torch.tensor([ids])
    with torch.no_grad():
        a, b = m1(input_ids=x).logits[0, :-1], m2(input_ids=x).logits[0, :-1]
    return criterion(*terms(a, b, x[0, 1:]).values()), len(ids) - 1


def test_pairs_with_different_vocabularies_score_one_pair_at_a_time(checkpoints):
    ck = checkpoints
    toks = {
        k: load_for_inference(ck[k], device="cpu", attn_implementation=None)[1]
        for k in ("llama_a", "gemma_a")
    }
    assert toks["llama_a"].get_vocab() != toks["gemma_a"].get_vocab()  # the pairs differ
    alive_at_load, loaded = [], []

    def loader(path, **kw):
        gc.collect()
        alive_at_load.append(sum(r() is not None for r in loaded))
        model, tok = load_for_inference(path, **kw)
        loaded.append(weakref.ref(model))
        return model, tok

    items, records = _items()
    rows = score_items(items, records, _cfg(ck), {}, {}, loader=loader)
    assert alive_at_load == [0, 1, 0, 1]  # the second pair loads after the first is freed
    got = {(r["detector"], r["id"]): r for r in rows}
    for i, text in enumerate(TEXTS[:3]):
        c, n = _by_hand(
            ck["llama_a"], ck["llama_b"], text, 512, fast_detectgpt_terms, fast_detectgpt_criterion
        )
        row = got[("fast_detectgpt", f"r{i}")]
        # c is a z-score whose numerator cancels (log p ~ mu under random tiny models): the
        # float32 vocabulary sums are held to 1e-5 absolute against the float64 reference
        assert row["n_tokens"] == n and row["score"] == pytest.approx(c, rel=1e-5, abs=1e-5)
        b, n = _by_hand(
            ck["gemma_a"], ck["gemma_b"], text, BINOCULARS_BUDGET, binoculars_terms, binoculars_score
        )
        row = got[("binoculars", f"r{i}")]
        assert row["n_tokens"] == n <= BINOCULARS_BUDGET
        assert row["score"] == pytest.approx(b, rel=1e-5, abs=1e-6)
    # each detector its own budget
    assert (
        got[("fast_detectgpt", "r1")]["n_tokens"] > BINOCULARS_BUDGET == got[("binoculars", "r1")]["n_tokens"]
    )
    assert got[("binoculars", "r3")]["score"] is None and got[("fast_detectgpt", "r3")]["n_tokens"] == 0


def test_a_pair_of_different_vocabularies_is_a_named_error(checkpoints):
    items, records = _items()
    with pytest.raises(PairVocabularyError, match="binoculars.*do not share a tokenizer"):
        score_items(items, records, _cfg(checkpoints, bino=("gemma_a", "llama_b")), {}, {})


def test_budget_keys_have_the_authors_default():
    cfg = detector_config({})
    assert cfg["fast_detectgpt"]["max_tokens"] == 512 and cfg["binoculars"]["max_tokens"] == 512


def test_the_default_detectors_descend_from_no_compared_system():
    from polyalign.detectors.settings import (
        ancestor_models,
        detector_config,
        independent_used,
        run_models_used,
    )

    cfg = detector_config({})
    assert ancestor_models(cfg) == []
    assert independent_used(cfg) == ["detector_base", "detector_sft"]
    assert run_models_used(cfg) == ["detector_base", "detector_sft"]


def test_the_authors_trained_detector_and_a_white_box_pair_are_named_as_ancestors():
    from polyalign.detectors.settings import ancestor_models, detector_config, independent_used

    hub = {"fast_detectgpt": {"scoring_model": "org/a", "sampling_model": "org/b"}}
    hub["binoculars"] = {"observer": "org/a", "performer": "org/b"}
    cfg = detector_config({"detectors": {**hub, "trained": {"sample_models": ["sft", "bucket_sft"]}}})
    assert ancestor_models(cfg) == ["bucket_sft", "sft"] and independent_used(cfg) == []
    white = detector_config({"detectors": {"binoculars": {"observer": "base", "performer": "sft"}}})
    assert ancestor_models(white) == ["base", "sft"]
    assert independent_used(white) == ["detector_base", "detector_sft"]  # Fast-DetectGPT's pair
