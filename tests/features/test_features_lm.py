"""LM features against a direct per-example computation on a tiny random Llama."""

import math

import numpy as np
import pytest
import torch

from polyalign.features.extract import extract_features
from polyalign.features.lm_features import _stats, lm_features
from polyalign.features.lm_inputs import response_examples, start_token_id
from polyalign.features.spec import FeatureError, lm_feature_names

PROMPTS = ["User: Hello\nAssistant:", "问：你好吗？\n答：", "Answer briefly.", ""]
RESPONSES = [" Hello, world! How are you?", "你好，世界！你好吗？", "yes", "The cat sat."]


def direct_nlls(model, tokenizer, context_text, response):
    """Unpadded, one example: NLL of each response token given start + context."""
    start = start_token_id(tokenizer)
    ctx = [start] if start is not None else []
    ctx += tokenizer(context_text, add_special_tokens=False)["input_ids"] if context_text else []
    resp = tokenizer(response, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([ctx + resp])
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), -1)
    first = max(len(ctx), 1)
    return np.array([-logp[t - 1, ids[0, t]].item() for t in range(first, ids.shape[1])])


def expected_row(model, tokenizer, prompt, response, max_ppl):
    cond = direct_nlls(model, tokenizer, prompt, response)
    uncond = direct_nlls(model, tokenizer, "", response)
    stats = [
        lambda x: x.mean(),
        lambda x: x.std(),
        lambda x: x.min(),
        lambda x: x.max(),
        lambda x: min(math.exp(x.mean()), max_ppl),
    ]
    c = [f(cond) for f in stats]
    u = [f(uncond) for f in stats]
    return c + u + [u[0] - c[0]]


def test_stats_on_hand_values():
    assert _stats(np.array([1.0, 2.0, 3.0]), 1e4) == pytest.approx(
        [2.0, math.sqrt(2 / 3), 1.0, 3.0, math.exp(2.0)]
    )
    assert _stats(np.array([9.0]), 100.0) == pytest.approx([9.0, 0.0, 9.0, 9.0, 100.0])


def test_matches_direct_computation(tiny_llama, tiny_tokenizer):
    got = lm_features(tiny_llama, tiny_tokenizer, PROMPTS, RESPONSES, batch_size=3, max_ppl=300)
    want = np.array([expected_row(tiny_llama, tiny_tokenizer, p, r, 300) for p, r in zip(PROMPTS, RESPONSES)])
    assert got.shape == (4, len(lm_feature_names())) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # The empty prompt gives a conditional context equal to the unconditional one.
    assert got[3, -1] == pytest.approx(0.0, abs=1e-6)


def test_the_vocabulary_projection_sees_only_response_positions(tiny_llama, tiny_tokenizer):
    rows = []
    hook = tiny_llama.get_output_embeddings().register_forward_hook(lambda m, i, o: rows.append(o.shape))
    try:
        lm_features(tiny_llama, tiny_tokenizer, PROMPTS, RESPONSES, batch_size=4)
    finally:
        hook.remove()
    n_response = sum(len(tiny_tokenizer(r, add_special_tokens=False)["input_ids"]) for r in RESPONSES)
    vocab = tiny_llama.config.vocab_size
    # one conditional and one unconditional pass, each [response tokens, V], never [B, L, V]
    assert rows == [torch.Size([n_response, vocab])] * 2


def test_batched_equals_unbatched_and_order_is_kept(tiny_llama, tiny_tokenizer):
    one = lm_features(tiny_llama, tiny_tokenizer, PROMPTS, RESPONSES, batch_size=1)
    four = lm_features(tiny_llama, tiny_tokenizer, PROMPTS, RESPONSES, batch_size=4)
    np.testing.assert_allclose(one, four, rtol=1e-5, atol=1e-5)
    rev = lm_features(tiny_llama, tiny_tokenizer, PROMPTS[::-1], RESPONSES[::-1], batch_size=4)
    np.testing.assert_allclose(rev[::-1], four, rtol=1e-5, atol=1e-5)


def test_padding_invariant_to_batch_companions(tiny_llama, tiny_tokenizer):
    alone = lm_features(tiny_llama, tiny_tokenizer, PROMPTS[2:3], RESPONSES[2:3])
    with_long = lm_features(
        tiny_llama,
        tiny_tokenizer,
        [PROMPTS[2], PROMPTS[0] * 3],
        [RESPONSES[2], RESPONSES[0] * 3],
        batch_size=2,
    )
    np.testing.assert_allclose(alone[0], with_long[0], rtol=1e-5, atol=1e-5)


def test_prompt_and_response_are_tokenized_separately(tiny_tokenizer):
    ex = response_examples(tiny_tokenizer, ["lo, world"], ["Hel"])[0]
    resp = tiny_tokenizer("lo, world", add_special_tokens=False)["input_ids"]
    assert ex.ids[0] == tiny_tokenizer.bos_token_id
    assert ex.ids[ex.response_start :] == resp


def test_start_token_falls_back_to_eos_then_none(tiny_llama, make_tiny_tokenizer):
    eos_only = make_tiny_tokenizer(bos=None, eos="</s>")
    assert start_token_id(eos_only) == eos_only.eos_token_id
    bare = make_tiny_tokenizer(bos=None, eos=None)
    assert start_token_id(bare) is None
    got = lm_features(tiny_llama, bare, ["Q:"], ["yes it is"])
    want = expected_row(tiny_llama, bare, "Q:", "yes it is", 1e4)
    np.testing.assert_allclose(got[0], want, rtol=1e-5, atol=1e-5)


def test_max_length_keeps_the_response_start_and_the_prompt_end(tiny_tokenizer):
    ex = response_examples(tiny_tokenizer, ["The cat sat on the mat."], ["Hello, world! " * 5], max_length=8)[
        0
    ]
    assert len(ex.ids) == 8 and ex.ids[0] == tiny_tokenizer.bos_token_id


def test_errors_are_explicit(tiny_llama, tiny_tokenizer):
    with pytest.raises(FeatureError, match=r"row 1 \(id 'b'\)"):
        lm_features(tiny_llama, tiny_tokenizer, ["a", "b"], ["ok", " "], ids=["a", "b"])
    with pytest.raises(FeatureError):
        lm_features(tiny_llama, tiny_tokenizer, ["a"], ["ok", "fine"])


def test_extract_features_appends_lm_columns(tiny_llama, tiny_tokenizer):
    matrix, names = extract_features(
        RESPONSES[:2], ["en", "zh"], prompts=PROMPTS[:2], model=tiny_llama, tokenizer=tiny_tokenizer
    )
    assert names[-len(lm_feature_names()) :] == lm_feature_names()
    assert np.isfinite(matrix[:, -len(lm_feature_names()) :]).all()
