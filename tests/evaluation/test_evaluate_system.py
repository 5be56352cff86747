"""evaluate_system on a tiny synthetic split (2 languages, 3 buckets)."""

import math

import numpy as np
import pytest

from polyalign.evaluation.evaluate import evaluate_system
from polyalign.evaluation.replicates import load_resample_arrays, save_resample_arrays
from polyalign.evaluation.scope_metrics import HEADLINE_METRICS
from polyalign.evaluation.store import load_metrics, write_metrics
from polyalign.io import InputError

from . import synthetic as syn


@pytest.fixture(scope="module")
def records():
    return syn.make_records()


@pytest.fixture(scope="module")
def refs(records):
    return syn.references(records)


@pytest.fixture(scope="module")
def human_result(records, refs):
    """The human answers evaluated as if they were a system's generations."""
    feats, emb = syn.features(records, seed=1), syn.embeddings(records, seed=2)
    return evaluate_system(
        records, syn.generations(records), feats, feats, refs, emb, emb, syn.settings(), system="human"
    )[0]


@pytest.fixture(scope="module")
def shifted_result(records, refs):
    """Answers truncated to their first word, features and embeddings shifted."""
    answers = [
        r["human_answer"].split()[0] if r["language"] == "en" else r["human_answer"][:2] for r in records
    ]
    return evaluate_system(
        records,
        syn.generations(records, answers),
        syn.features(records, 1),
        syn.features(records, 3, shift=0.7),
        refs,
        syn.embeddings(records, 2),
        syn.embeddings(records, 4, shift=0.5),
        syn.settings(),
        system="shifted",
        seed=0,
    )


def _expected_hcr(records, feats, refs, bucket):
    """Hand computation: share of the bucket's rows with every referenced feature in [q10, q90]."""
    ref = refs["buckets"][bucket]["features"]
    covered = []
    for i, r in enumerate(records):
        if r["bucket_id"] != bucket:
            continue
        inside = [
            ref[name]["q10"] <= feats["X"][i, j] <= ref[name]["q90"]
            for j, name in enumerate(syn.NAMES)
            if name in ref
        ]
        covered.append(all(inside))
    return sum(covered) / len(covered)


def test_identical_generations_are_perfect(human_result, records, refs):
    feats = syn.features(records, seed=1)
    for scope in ("overall", "en", "zh"):
        head = human_result["headline"][scope]
        for metric in ("em", "qa_f1", "rouge_l"):
            assert head[metric] == 1.0
        for metric in ("bng_macro", "bng_weighted", "bng_robust_macro", "bng_robust_weighted"):
            assert head[metric] == 0.0
        assert head["g_mauve"] == pytest.approx(1.0, abs=1e-6)
        assert head["nuf"] == pytest.approx(1.0, abs=1e-6)
        assert head["aggregate"] == pytest.approx(1.0, abs=1e-6)
    expected = {b: _expected_hcr(records, feats, refs, b) for b in syn.BUCKETS}
    assert 0 < min(expected.values()) and max(expected.values()) < 1  # a non-trivial check
    per_bucket = human_result["per_bucket"]
    for b in syn.BUCKETS:
        assert per_bucket[b]["hcr"] == pytest.approx(expected[b])
        assert per_bucket[b]["n"] == syn.N_PER_BUCKET and per_bucket[b]["bng"] == 0.0
    en = [expected[b] for b in syn.BUCKETS if b.startswith("en")]
    assert human_result["headline"]["en"]["hcr_macro"] == pytest.approx(np.mean(en))
    assert human_result["headline"]["overall"]["hcr_macro"] == pytest.approx(np.mean(list(expected.values())))
    assert human_result["languages"] == {"en": 24, "zh": 12}
    assert human_result["zh_tokenization"] == "char"
    assert set(human_result["per_corpus"]) == {"toy_en", "toy_zh"}
    tdm = human_result["scopes"]["en"]["tdm"]
    assert list(tdm["per_bucket"]) == ["en|multi|dialogue|short"]


def test_point_estimates_of_a_shifted_system(shifted_result):
    result, _ = shifted_result
    defined = {
        (scope, m)
        for scope, head in result["headline"].items()
        for m in HEADLINE_METRICS
        if math.isfinite(head[m])
    }
    # every metric is defined in every scope, except TDM / multi-turn NUF in zh (no multi bucket)
    assert len(defined) == 3 * len(HEADLINE_METRICS) - 2
    assert ("zh", "tdm") not in defined and ("zh", "nuf_multi_turn") not in defined
    head = result["headline"]["en"]
    assert 0 < head["qa_f1"] < 1 and head["bng_macro"] > 0 and 0 < head["g_mauve"] < 1
    assert head["language_fidelity"] == 1.0  # first English word / first two Chinese characters


def test_written_files_round_trip(shifted_result, tmp_path):
    result, arrays = shifted_result
    write_metrics(tmp_path / "m.json", result)
    save_resample_arrays(tmp_path / "m.resample.npz", arrays, "shifted", 0)
    metrics = load_metrics(tmp_path / "m.json")
    assert metrics["headline"]["en"]["qa_f1"] == result["headline"]["en"]["qa_f1"]
    assert metrics["seed"] == 0 and metrics["fingerprint"] == result["fingerprint"]
    meta, back = load_resample_arrays(tmp_path / "m.resample.npz")
    assert meta["system"] == "shifted" and back.ids == arrays.ids
    assert np.array_equal(back.scores["qa_f1"], arrays.scores["qa_f1"])
    assert back.eligible == arrays.eligible and set(back.tdm) == {"overall", "en"}
    for b, lab in arrays.bucket_labels.items():
        assert np.array_equal(back.bucket_labels[b]["human"], lab["human"])
        assert back.bucket_labels[b]["num_clusters"] == lab["num_clusters"]


def _call(records, gens, refs):
    feats, emb = syn.features(records, 1), syn.embeddings(records, 2)
    return evaluate_system(records, gens, feats, feats, refs, emb, emb, syn.settings(5))


def test_missing_generation_raises(records, refs):
    gens = syn.generations(records)[1:]
    with pytest.raises(InputError, match="1 test id\\(s\\) missing"):
        _call(records, gens, refs)


def test_extra_or_duplicate_generation_raises(records, refs):
    gens = syn.generations(records)
    with pytest.raises(InputError, match="not in the test split"):
        _call(records, gens + [dict(gens[0], id="unknown")], refs)
    with pytest.raises(InputError, match="more than once"):
        _call(records, gens + [gens[0]], refs)


def test_missing_feature_row_raises(records, refs):
    feats = syn.features(records, 1)
    short = {"ids": feats["ids"][:-1], "names": feats["names"], "X": feats["X"][:-1]}
    emb = syn.embeddings(records, 2)
    with pytest.raises(InputError, match="features: 1 test id"):
        evaluate_system(records, syn.generations(records), feats, short, refs, emb, emb, syn.settings(5))


def test_sample_selection(records, refs):
    gens = syn.generations(records)
    two = [dict(g, sample=0) for g in gens] + [dict(g, sample=1, answer="x") for g in gens]
    feats = syn.features(records, 1)
    res = evaluate_system(records, two, feats, feats, refs, None, None, syn.settings(5))[0]
    assert res["headline"]["overall"]["qa_f1"] == 1.0
    assert math.isnan(res["headline"]["overall"]["g_mauve"])
    assert "g_mauve" not in res["scopes"]["en"]["aggregate"]["components"]


def test_invalid_responses(records, refs):
    """An empty answer: features invalid (NaN), embedding NaN -> left out of BNG and MAUVE,
    not covered for HCR, scored 0 by QA-F1."""
    gens = syn.generations(records)
    k = 0  # first id in sorted order: en|multi bucket
    gens[k] = dict(gens[k], answer="")
    feats = syn.features(records, 1)
    gfeats = dict(feats, X=feats["X"].copy(), valid=np.ones(len(records), dtype=bool))
    gfeats["X"][k] = np.nan
    gfeats["valid"][k] = False
    emb = syn.embeddings(records, 2)
    gemb = dict(emb, E=emb["E"].copy())
    gemb["E"][k] = np.nan
    res = evaluate_system(records, gens, feats, gfeats, refs, emb, gemb, syn.settings(20))[0]
    bucket = records[k]["bucket_id"]
    en = res["scopes"]["en"]
    assert en["n_invalid_features"] == 1 and en["g_mauve"]["n_invalid_embeddings"] == 1
    assert en["bng"]["n_generated"][bucket] == syn.N_PER_BUCKET - 1
    assert res["per_bucket"][bucket]["qa_f1"] == pytest.approx((syn.N_PER_BUCKET - 1) / syn.N_PER_BUCKET)
    human = _expected_hcr(records, feats, refs, bucket)
    n_cov = round(human * syn.N_PER_BUCKET)
    inside_k = _expected_hcr([records[k]], {"X": feats["X"][k : k + 1]}, refs, bucket)
    assert res["per_bucket"][bucket]["hcr"] == pytest.approx((n_cov - inside_k) / syn.N_PER_BUCKET)
    assert res["headline"]["en"]["bng_macro"] > 0
    assert math.isfinite(res["headline"]["en"]["g_mauve"])
    assert res["per_bucket"][bucket]["language_fidelity"] == pytest.approx(
        (syn.N_PER_BUCKET - 1) / syn.N_PER_BUCKET
    )  # the empty answer has no script
    # the empty answer is counted as no answer, in its scopes and its bucket
    n_en = sum(r["language"] == "en" for r in records)
    assert res["no_answer"]["en"] == {"k": 1, "n": n_en} and res["no_answer"]["overall"]["k"] == 1
    assert res["no_answer"]["zh"]["k"] == 0 and res["per_bucket"][bucket]["no_answer"] == 1


def test_no_final_answer_counts_as_no_answer():
    from polyalign.evaluation.evaluate import no_answer_mask

    rows = [
        {"answer": "an answer", "answer_found": True},
        {"answer": "  ", "answer_found": True},  # empty
        {"answer": "the whole reasoning", "answer_found": False},  # CoT without a final answer
        {"answer": "plain system"},  # no answer_found field: an answer
    ]
    assert no_answer_mask(rows).tolist() == [False, True, True, False]
