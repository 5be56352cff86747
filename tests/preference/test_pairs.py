"""Pairs from hand-written records and generations: drops by reason, hardest negative, weights."""
import numpy as np
import pytest

from polyalign.io import InputError
from polyalign.preference.config import preference_config, preference_train_config
from polyalign.preference.pairs import build_pairs
from polyalign.train.weights import pair_weights

from .conftest import record, sample_row


def fake_scorer(table):
    """Scores looked up by text; records every call so the test can check batching."""
    calls = []

    def score(texts, bucket_ids, prompts):
        calls.append((list(texts), list(bucket_ids), list(prompts)))
        return np.array([table[t] for t in texts])

    score.calls = calls
    return score


def fixture_set():
    recs = [
        record(0, human_answer="Hello there."),                   # ok, one sample
        record(1, human_answer=""),                               # empty chosen
        record(2),                                                # no sample
        record(3, human_answer="yes"),                            # only sample is blank
        record(4, human_answer="Fine, thanks."),                  # identical after normalize
        record(5, language="zh", human_answer="还行吧", length_bin="medium"),  # k=3: hardest
    ]
    s = [
        sample_row(recs[0], "Hi! How can I help you today?"),
        sample_row(recs[1], "something"),
        sample_row(recs[3], "  \n "),
        sample_row(recs[4], "Fine,   thanks.\r\n"),
        sample_row(recs[5], "我是一个人工智能助手。", sample=2, finish="length"),
        sample_row(recs[5], "还行吧", sample=0),                   # identical: dropped sample
        sample_row(recs[5], "作为AI，我没有感受。", sample=1),
        sample_row(recs[5], "这是第四个样本", sample=3),           # beyond k=3: ignored
    ]
    return recs, s


SCORES = {"Hello there.": 0.2, "Hi! How can I help you today?": 0.9, "还行吧": 0.1,
          "我是一个人工智能助手。": 1.7, "作为AI，我没有感受。": 0.6, "yes": 0.0, "Fine, thanks.": 0.0}


def test_hdpo_pairs_drops_hardest_negative_and_weights():
    recs, samples = fixture_set()
    cfg = preference_config({"preference": {"num_samples": 3}}, "dpo") | {"critic": True}
    cfg["pair_weights"] = {**cfg["pair_weights"], "enabled": True}
    scorer = fake_scorer(SCORES)
    pairs, report = build_pairs(recs, samples, "dpo", cfg, scorer)

    assert [p["id"] for p in pairs] == ["r0", "r5"]
    assert report["dropped"] == {"empty_chosen": 1, "bucket_without_reference": 0, "no_sample": 1,
                                 "empty_rejected": 1, "identical": 1}
    # r3's blank sample, r4's and r5's identical ones; r5's 4th sample is beyond k
    assert report["samples_dropped"] == {"empty": 1, "identical": 2}
    assert report["pairs"] == 2 and report["prompts"] == 6

    r5 = pairs[1]
    # candidates of r5: sample 1 (0.6) and sample 2 (1.7): the hardest is sample 2
    assert r5["rejected"] == "我是一个人工智能助手。" and r5["rejected_sample"] == 2
    assert r5["rejected_finished"] is False and r5["n_candidates"] == 2
    assert (r5["s_pos"], r5["s_neg"]) == (0.1, 1.7)
    assert pairs[0]["s_pos"] == 0.2 and pairs[0]["s_neg"] == 0.9
    assert pairs[0]["prompt"] == "<prompt of r0>" and pairs[0]["chosen"] == "Hello there."

    # one batched critic call: chosen + candidates of every kept prompt, with bucket and prompt
    assert len(scorer.calls) == 1
    texts, buckets, prompts = scorer.calls[0]
    assert texts == ["Hello there.", "Hi! How can I help you today?", "还行吧", "作为AI，我没有感受。",
                     "我是一个人工智能助手。"]
    assert buckets[2:] == [recs[5]["bucket_id"]] * 3 and prompts[0] == "<prompt of r0>"

    # weights: exactly pair_weights on the same inputs, with the config's coefficients
    pw = dict(cfg["pair_weights"])
    pw.pop("enabled")
    expected = pair_weights(["en|single|dialogue|short", "zh|single|dialogue|medium"], ["en", "zh"],
                            [0.2, 0.1], [0.9, 1.7], **pw)
    # by hand: balanced buckets and languages -> g = 0; w = 1 + max(0, s- - s+) = [1.7, 2.6]
    np.testing.assert_allclose(expected, [1.7, 2.6])
    np.testing.assert_allclose([p["weight"] for p in pairs], expected)
    assert report["critic"]["gap_mean"] == pytest.approx((0.7 + 1.6) / 2)
    assert report["weights"]["mean"] == pytest.approx(2.15)
    assert report["critic"]["hardest_negative_gain"] == pytest.approx(1.7 - (0.6 + 1.7) / 2)


def test_critic_off_zero_scores_first_valid_sample_and_no_critic_weight_term():
    recs, samples = fixture_set()
    recs.append(record(6))  # a third bucket-mate so g_b is non-zero for someone
    samples.append(sample_row(recs[6], "whatever"))
    cfg = preference_config({"preference": {"num_samples": 3, "critic": False}}, "hdpo")
    samples = [dict(s, style="profile", profile_length="sampled") for s in samples]
    pairs, report = build_pairs(recs, samples, "hdpo", cfg, scorer=None, profile_length="sampled")
    assert [p["id"] for p in pairs] == ["r0", "r5", "r6"]
    assert all(p["s_pos"] == 0.0 and p["s_neg"] == 0.0 for p in pairs)
    assert pairs[1]["rejected_sample"] == 1  # lowest valid sample index
    pw = dict(cfg["pair_weights"], use_critic=False)
    pw.pop("enabled")
    expected = pair_weights([p["bucket_id"] for p in pairs], [p["language"] for p in pairs], **pw)
    # by hand: buckets en-short ×2, zh-medium ×1 -> raw = [0, 0, 3/(2·1)−1 = 0.5] -> g_b = [0, 0, 1];
    # languages en ×2, zh ×1 -> g_lang = [0, 0, 1];  w = 1 + 0.5·g_b + 0.25·g_lang
    np.testing.assert_allclose(expected, [1.0, 1.75, 1.0])
    np.testing.assert_allclose([p["weight"] for p in pairs], expected)
    assert report["critic"]["enabled"] is False


def test_dpo_is_plain_unit_weights_and_needs_plain_samples():
    recs, samples = fixture_set()
    cfg = preference_config({"preference": {"lam": 0.3, "gamma_sft": 0.2}}, "dpo")
    assert (cfg["lam"], cfg["gamma_sft"], cfg["critic"], cfg["pair_weights"]["enabled"]) == (0.0, 0.0, False, False)
    pairs, report = build_pairs(recs, samples, "dpo", cfg)
    # k = 1: r5 keeps only its sample 0, which equals the human answer -> the prompt is dropped
    assert [p["id"] for p in pairs] == ["r0"] and report["dropped"]["identical"] == 2
    assert [p["weight"] for p in pairs] == [1.0] and pairs[0]["s_pos"] == pairs[0]["s_neg"] == 0.0
    with pytest.raises(InputError, match="prompt style"):
        build_pairs(recs, samples, "hdpo", preference_config({}, "hdpo") | {"critic": False})


def test_bad_samples_fail_loudly():
    recs, samples = fixture_set()
    cfg = preference_config({}, "dpo")
    with pytest.raises(InputError, match="not a train record"):
        build_pairs(recs, samples + [sample_row(record(99), "x")], "dpo", cfg)
    with pytest.raises(InputError, match="duplicate sample"):
        build_pairs(recs, samples + [samples[0]], "dpo", cfg)
    with pytest.raises(ValueError, match="no scorer"):
        build_pairs(recs, samples, "dpo", cfg | {"critic": True})


def test_config_resolution_and_train_config():
    config = {"preference": {"beta": 0.2, "pair_weights": {"alpha": 1.0}, "lr": 1e-5, "grad_accum": 4},
              "hdpo": {"pair_weights": {"use_language": False}, "max_steps": 7},
              "train_common": {"micro_batch_size": 8}}
    h = preference_config(config, "hdpo")
    assert h["beta"] == 0.2 and h["lam"] == 0.1 and h["gamma_sft"] == 0.05 and h["critic"] is True
    assert h["pair_weights"]["alpha"] == 1.0 and h["pair_weights"]["use_language"] is False
    assert h["pair_weights"]["w_max"] == 3.0
    t = preference_train_config(config, "hdpo")
    assert (t.lr, t.grad_accum, t.max_steps, t.micro_batch_size) == (1e-5, 4, 7, 8)
    d = preference_config({**config, "dpo": {"lam": 0.5, "critic": True}}, "dpo")  # explicit ablation
    assert d["lam"] == 0.5 and d["gamma_sft"] == 0.0 and d["pair_weights"]["enabled"] is False
    with pytest.raises(ValueError, match="unknown key"):
        preference_config({"preference": {"betta": 0.1}}, "hdpo")
    with pytest.raises(ValueError, match="pair_weights: unknown"):
        preference_config({"hdpo": {"pair_weights": {"alfa": 1}}}, "hdpo")


def test_prompts_the_critic_cannot_score_are_dropped_not_scored_zero():
    recs, samples = fixture_set()
    cfg = preference_config({"preference": {"num_samples": 3}}, "dpo") | {"critic": True}
    known = {recs[0]["bucket_id"]}  # r5's zh bucket has no reference
    pairs, report = build_pairs(recs, samples, "dpo", cfg, fake_scorer(SCORES), critic_buckets=known)
    assert [p["id"] for p in pairs] == ["r0"]
    assert report["dropped"] == {"empty_chosen": 1, "bucket_without_reference": 1, "no_sample": 1,
                                 "empty_rejected": 1, "identical": 1}


def test_critic_scorer_log1p_transform():
    from polyalign.preference.pairs import critic_scorer

    class FakeCritic:
        needs_prompts = False

        def score(self, texts, bucket_ids, prompts=None, batch_size=None, progress=False):
            return np.array([0.0, np.e - 1, -0.5])

    raw = critic_scorer(FakeCritic())(["a", "b", "c"], ["x"] * 3, ["p"] * 3)
    logged = critic_scorer(FakeCritic(), transform="log1p")(["a", "b", "c"], ["x"] * 3, ["p"] * 3)
    np.testing.assert_allclose(raw, [0.0, np.e - 1, -0.5])
    np.testing.assert_allclose(logged, [0.0, 1.0, 0.0])  # log1p(max(D, 0))
