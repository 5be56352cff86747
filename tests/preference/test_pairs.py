"""Pairs from hand-written records and generations: drops by reason, hardest negative, weights."""

from dataclasses import replace

import numpy as np
import pytest

from polyalign.config import fill_defaults
from polyalign.config.settings import settings_dict
from polyalign.io import InputError
from polyalign.preference.config import preference_settings, preference_train_config
from polyalign.preference.pairs import build_pairs, pair_profile_length, usable_prompts
from polyalign.prompts import PROFILE_INSTRUCTION, build_messages, render_messages
from polyalign.train.weights import pair_weights

from .conftest import MODEL, record, sample_row


def settings(config, system):
    """PreferenceSettings of `system` from `config` over the schema's defaults."""
    return preference_settings(fill_defaults(config), system)


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
        record(0, human_answer="Hello there."),  # ok, one sample
        record(1, human_answer=""),  # empty chosen
        record(2),  # no sample
        record(3, human_answer="yes"),  # only sample is blank
        record(4, human_answer="Fine, thanks."),  # identical after normalize
        record(5, language="zh", human_answer="还行吧", length_bin="medium"),  # k=3: hardest
    ]
    s = [
        sample_row(recs[0], "Hi! How can I help you today?"),
        sample_row(recs[1], "something"),
        sample_row(recs[3], "  \n "),
        sample_row(recs[4], "Fine,   thanks.\r\n"),
        sample_row(recs[5], "我是一个人工智能助手。", sample=2, finish="length"),
        sample_row(recs[5], "还行吧", sample=0),  # identical: dropped sample
        sample_row(recs[5], "作为AI，我没有感受。", sample=1),
        sample_row(recs[5], "这是第四个样本", sample=3),  # beyond k=3: ignored
    ]
    return recs, s


SCORES = {
    "Hello there.": 0.2,
    "Hi! How can I help you today?": 0.9,
    "还行吧": 0.1,
    "我是一个人工智能助手。": 1.7,
    "作为AI，我没有感受。": 0.6,
    "yes": 0.0,
    "Fine, thanks.": 0.0,
}


def test_hdpo_pairs_drops_hardest_negative_and_weights():
    recs, samples = fixture_set()
    cfg = replace(settings({"preference": {"num_samples": 3}}, "dpo"), critic=True)
    cfg = replace(cfg, pair_weights=replace(cfg.pair_weights, enabled=True), language_balance=True)
    scorer = fake_scorer(SCORES)
    pairs, report = build_pairs(recs, samples, "dpo", cfg, scorer)

    assert [p["id"] for p in pairs] == ["r0", "r5"]
    assert report["dropped"] == {
        "empty_chosen": 1,
        "bucket_without_reference": 0,
        "no_sample": 1,
        "empty_rejected": 1,
        "identical": 1,
        "dropped_for_companion": 0,
    }
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
    assert texts == [
        "Hello there.",
        "Hi! How can I help you today?",
        "还行吧",
        "作为AI，我没有感受。",
        "我是一个人工智能助手。",
    ]
    assert buckets[2:] == [recs[5]["bucket_id"]] * 3 and prompts[0] == "<prompt of r0>"

    # weights: exactly pair_weights on the same inputs, with the config's coefficients
    pw = settings_dict(cfg.pair_weights)
    pw.pop("enabled")
    expected = pair_weights(
        ["en|single|dialogue|short", "zh|single|dialogue|medium"], ["en", "zh"], [0.2, 0.1], [0.9, 1.7], **pw
    )
    # by hand: balanced buckets and languages -> g = 0; w = 1 + max(0, s- - s+) = [1.7, 2.6]
    np.testing.assert_allclose(expected, [1.7, 2.6])
    np.testing.assert_allclose([p["weight_clipped"] for p in pairs], expected)
    # language balance (the preference block's default): one en and one zh pair, each language carries 2/2 = 1
    np.testing.assert_allclose([p["weight"] for p in pairs], [1.0, 1.0])
    assert report["critic"]["gap_mean"] == pytest.approx((0.7 + 1.6) / 2)
    assert report["weights"]["mean"] == pytest.approx(1.0) and report["weights"]["clipped"][
        "mean"
    ] == pytest.approx(2.15)
    assert report["weights"]["by_language"]["zh"]["mass_share"] == pytest.approx(0.5)
    # without language balance: rescaled to mean 1, w = [1.7, 2.6] * 2 / 4.3
    pairs, report = build_pairs(recs, samples, "dpo", replace(cfg, language_balance=False), scorer)
    np.testing.assert_allclose([p["weight"] for p in pairs], [3.4 / 4.3, 5.2 / 4.3])
    assert report["weights"]["by_language"]["zh"]["mass_share"] == pytest.approx(2.6 / 4.3)
    assert report["critic"]["hardest_negative_gain"] == pytest.approx(1.7 - (0.6 + 1.7) / 2)


def test_critic_off_zero_scores_first_valid_sample_and_no_critic_weight_term():
    recs, samples = fixture_set()
    recs.append(record(6))  # a third bucket-mate so g_b is non-zero for someone
    samples.append(sample_row(recs[6], "whatever"))
    cfg = settings({"preference": {"num_samples": 3, "critic": False}}, "hdpo")
    by_id = {r["id"]: r for r in recs}
    samples = [
        dict(s, style="profile", profile_length="gold", length_bin=by_id[s["id"]]["length_bin"])
        for s in samples
    ]
    pairs, report = build_pairs(recs, samples, "hdpo", cfg, scorer=None)
    assert [p["id"] for p in pairs] == ["r0", "r5", "r6"]
    assert all(p["s_pos"] == 0.0 and p["s_neg"] == 0.0 for p in pairs)
    assert pairs[1]["rejected_sample"] == 1  # lowest valid sample index
    pw = dict(settings_dict(cfg.pair_weights), use_critic=False)
    pw.pop("enabled")
    expected = pair_weights([p["bucket_id"] for p in pairs], [p["language"] for p in pairs], **pw)
    # by hand: buckets en-short ×2, zh-medium ×1 -> raw = [0, 0, 3/(2·1)−1 = 0.5] -> g_b = [0, 0, 1];
    # languages en ×2, zh ×1 -> g_lang = [0, 0, 1];  w = 1 + 0.5·g_b + 0.25·g_lang
    np.testing.assert_allclose(expected, [1.0, 1.75, 1.0])
    np.testing.assert_allclose([p["weight_clipped"] for p in pairs], expected)
    # language balance: 3 pairs, 2 languages -> each language carries 1.5; en 1, 1 -> 0.75 each
    np.testing.assert_allclose([p["weight"] for p in pairs], [0.75, 1.5, 0.75])
    assert report["critic"]["enabled"] is False


def test_profile_pairs_carry_the_chosen_answers_own_length_bin():
    recs, samples = fixture_set()
    by_id = {r["id"]: r for r in recs}
    cfg = settings({"preference": {"critic": False}}, "hdpo")
    gold = [
        dict(s, style="profile", profile_length="gold", length_bin=by_id[s["id"]]["length_bin"])
        for s in samples
    ]
    pairs, _ = build_pairs(recs, gold, "hdpo", cfg)
    assert all(
        p["profile_length_bin"] == p["chosen_length_bin"] == by_id[p["id"]]["length_bin"] for p in pairs
    )
    # samples drawn with a sampled bin (the inference mode) cannot make pairs
    with pytest.raises(InputError, match="profile_length 'gold'"):
        build_pairs(recs, [dict(s, profile_length="sampled") for s in gold], "hdpo", cfg)
    # a row whose bin is not its human answer's
    bad = [dict(s, length_bin="long") if s["id"] == "r0" else s for s in gold]
    with pytest.raises(InputError, match="length bin other than their human answer's.*'r0'"):
        build_pairs(recs, bad, "hdpo", cfg)
    # profile_length none: no bin at all
    none = [dict(s, profile_length="none", length_bin=None) for s in gold]
    assert len(build_pairs(recs, none, "hdpo", cfg, profile_length="none")[0]) == len(pairs)
    assert pair_profile_length("sampled") == pair_profile_length("gold") == "gold"
    assert pair_profile_length("none") == "none"


def test_dpo_and_hdpo_train_on_the_same_prompts():
    recs, samples = fixture_set()
    recs.append(record(6))
    samples.append(sample_row(recs[6], "whatever"))
    by_id = {r["id"]: r for r in recs}
    # the HDPO policy: r0's only sample is the human answer, r6 has a valid one, r5 only an identical sample
    hdpo_samples = [
        dict(
            sample_row(by_id[i], out),
            style="profile",
            profile_length="gold",
            length_bin=by_id[i]["length_bin"],
        )
        for i, out in (("r0", "Hello there."), ("r5", "还行吧"), ("r6", "something else"))
    ]
    dcfg, hcfg = settings({}, "dpo"), settings({"preference": {"critic": False}}, "hdpo")
    dpo, dreport = build_pairs(recs, samples, "dpo", dcfg, companions=[(hdpo_samples, 1)])
    hdpo, hreport = build_pairs(recs, hdpo_samples, "hdpo", hcfg, companions=[(samples, 1)])
    # DPO alone would keep r0 and r6 (r5's first sample is identical); HDPO alone r6 only
    assert [p["id"] for p in dpo] == [p["id"] for p in hdpo] == ["r6"]
    assert dreport["dropped"]["dropped_for_companion"] == 1
    assert usable_prompts(recs, samples, 1) == {"r0", "r6"} and usable_prompts(recs, hdpo_samples, 1) == {
        "r6"
    }


def test_a_group_of_three_trains_on_the_prompts_every_companion_can_pair():
    recs, samples = fixture_set()
    recs.append(record(6))
    samples.append(sample_row(recs[6], "whatever"))
    # alone, DPO keeps r0 and r6; companion A can pair r0 and r6, companion B r6 only (r0 identical)
    a = [sample_row(recs[0], "other"), sample_row(recs[6], "other")]
    b = [sample_row(recs[0], recs[0]["human_answer"]), sample_row(recs[6], "other")]
    cfg = settings({}, "dpo")
    assert [p["id"] for p in build_pairs(recs, samples, "dpo", cfg, companions=[(a, 1)])[0]] == ["r0", "r6"]
    pairs, report = build_pairs(recs, samples, "dpo", cfg, companions=[(a, 1), (b, 1)])
    assert [p["id"] for p in pairs] == ["r6"]
    assert report["dropped"]["dropped_for_companion"] == 1


def test_buckets_without_reference_are_dropped_for_dpo_too():
    recs, samples = fixture_set()
    cfg = settings({"preference": {"num_samples": 3}}, "dpo")
    assert cfg.critic is False
    pairs, report = build_pairs(recs, samples, "dpo", cfg, critic_buckets={recs[5]["bucket_id"]})
    assert [p["id"] for p in pairs] == ["r5"]  # r0's en bucket has no reference, so no DPO pair either
    assert report["dropped"]["bucket_without_reference"] == 4  # r0, r2, r3, r4 (r1: empty chosen first)


def test_dpo_is_plain_unit_weights_and_needs_plain_samples():
    recs, samples = fixture_set()
    cfg = settings({"preference": {"lam": 0.3, "gamma_sft": 0.2}}, "dpo")
    assert (cfg.lam, cfg.gamma_sft, cfg.critic, cfg.pair_weights.enabled) == (
        0.0,
        0.0,
        False,
        False,
    )
    pairs, report = build_pairs(recs, samples, "dpo", cfg)
    # k = 1: r5 keeps only its sample 0, which equals the human answer -> the prompt is dropped
    assert [p["id"] for p in pairs] == ["r0"] and report["dropped"]["identical"] == 2
    assert [p["weight"] for p in pairs] == [1.0] and pairs[0]["s_pos"] == pairs[0]["s_neg"] == 0.0
    with pytest.raises(InputError, match="prompt style"):
        build_pairs(recs, samples, "hdpo", replace(settings({}, "hdpo"), critic=False))


def policy_sample(rec, style, output):
    """A train-prompt sample whose prompt is rendered as a policy of `style` renders it (the plain
    format of a tokenizer without chat template; profile samples carry the answer's own bin)."""
    length_bin = rec["length_bin"] if style == "profile" else None
    prompt = render_messages(build_messages(rec, None, style, length_bin), None)
    row = sample_row(rec, output, style=style, prompt=prompt, length_bin=length_bin)
    return dict(row, profile_length="gold") if style == "profile" else row


def test_hdpo_from_sft_pairs_sfts_samples_under_plain_prompts_with_hdpos_critic():
    recs = [record(i, language="en" if i < 4 else "zh") for i in range(6)]
    sft = [policy_sample(r, "plain", MODEL[i]) for i, r in enumerate(recs)]
    bucket_sft = [policy_sample(r, "profile", MODEL[i] + " (profiled)") for i, r in enumerate(recs)]
    bucket_sft[4]["output"] = recs[4]["human_answer"]  # HDPO's own policy gives r4 no pair
    dcfg, hcfg = settings({}, "dpo"), settings({}, "hdpo")
    assert hcfg.critic and not dcfg.critic
    table = {**{r["human_answer"]: 0.1 for r in recs}, **{x["output"]: 0.8 for x in sft + bucket_sft}}
    dpo, _ = build_pairs(recs, sft, "dpo", dcfg, companions=[(bucket_sft, 1)])
    hdpo, _ = build_pairs(recs, bucket_sft, "hdpo", hcfg, fake_scorer(table), companions=[(sft, 1)])
    scorer = fake_scorer(table)
    # the variant's companions: DPO's policy (SFT) and its parent's (Bucket-SFT), methods.companions
    variant, report = build_pairs(
        recs, sft, "hdpo", hcfg, scorer, companions=[(sft, 1), (bucket_sft, 1)], start_policy="sft"
    )
    # DPO's prompts on the same samples: plain, no profile; HDPO's carry the profile
    assert [(p["id"], p["prompt"], p["style"]) for p in variant] == [
        (p["id"], p["prompt"], p["style"]) for p in dpo
    ]
    assert all(PROFILE_INSTRUCTION not in p["prompt"] and p["style"] == "plain" for p in variant)
    assert all(PROFILE_INSTRUCTION in p["prompt"] for p in hdpo)
    assert (report["system"], report["start_policy"], report["style"]) == ("hdpo", "sft", "plain")
    # SFT's answers are the rejected side, scored by the critic under the plain prompts
    assert [p["rejected"] for p in variant] == [p["rejected"] for p in dpo] == MODEL[:4] + MODEL[5:6]
    assert scorer.calls[0][2][0] == variant[0]["prompt"]
    assert all((p["s_pos"], p["s_neg"]) == (0.1, 0.8) for p in variant)
    assert all((p["s_pos"], p["s_neg"]) == (0.0, 0.0) for p in dpo)
    # the prompts its parent and DPO train on (r4 is dropped for all three)
    assert [p["id"] for p in variant] == [p["id"] for p in hdpo] == ["r0", "r1", "r2", "r3", "r5"]
    # HDPO's start policy prompts with profiles: without the variant's own, SFT's samples are refused
    with pytest.raises(InputError, match="'profile' prompt style of bucket_sft"):
        build_pairs(recs, sft, "hdpo", hcfg, scorer)


def test_bad_samples_fail_loudly():
    recs, samples = fixture_set()
    cfg = settings({}, "dpo")
    with pytest.raises(InputError, match="not a train record"):
        build_pairs(recs, samples + [sample_row(record(99), "x")], "dpo", cfg)
    with pytest.raises(InputError, match="duplicate sample"):
        build_pairs(recs, samples + [samples[0]], "dpo", cfg)
    with pytest.raises(ValueError, match="no scorer"):
        build_pairs(recs, samples, "dpo", replace(cfg, critic=True))


def test_config_resolution_and_train_config():
    config = {
        "preference": {"beta": 0.2, "pair_weights": {"alpha": 1.0}, "lr": 1e-5, "grad_accum": 4},
        "hdpo": {"pair_weights": {"use_language": False}, "max_steps": 7},
        "train_common": {"micro_batch_size": 8},
    }
    h = settings(config, "hdpo")
    assert (
        h.beta == 0.2
        and h.lam == 0.25
        and h.lam_normalization == "gradient"
        and h.gamma_sft == 0.05
        and h.critic is True
    )
    assert h.pair_weights.alpha == 1.0 and h.pair_weights.use_language is False
    assert h.pair_weights.w_max == 3.0
    t = preference_train_config(fill_defaults(config), "hdpo")
    assert (t.lr, t.grad_accum, t.max_steps, t.micro_batch_size) == (1e-5, 4, 7, 8)
    d = settings({**config, "dpo": {"lam": 0.5, "critic": True}}, "dpo")  # explicit ablation
    assert d.lam == 0.5 and d.gamma_sft == 0.0 and d.pair_weights.enabled is False
    with pytest.raises(ValueError, match=r"hdpo\.betta: unknown key"):
        settings({"preference": {"betta": 0.1}}, "hdpo")
    with pytest.raises(ValueError, match=r"hdpo\.pair_weights\.alfa: unknown key"):
        settings({"hdpo": {"pair_weights": {"alfa": 1}}}, "hdpo")


def test_prompts_the_critic_cannot_score_are_dropped_not_scored_zero():
    recs, samples = fixture_set()
    cfg = replace(settings({"preference": {"num_samples": 3}}, "dpo"), critic=True)
    known = {recs[0]["bucket_id"]}  # r5's zh bucket has no reference
    pairs, report = build_pairs(recs, samples, "dpo", cfg, fake_scorer(SCORES), critic_buckets=known)
    assert [p["id"] for p in pairs] == ["r0"]
    assert report["dropped"] == {
        "empty_chosen": 1,
        "bucket_without_reference": 1,
        "no_sample": 1,
        "empty_rejected": 1,
        "identical": 1,
        "dropped_for_companion": 0,
    }


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
