"""Turn-Dynamics Match: component formulas by hand, invariants on a small bilingual set."""

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from polyalign.metrics.tdm import (
    _row_cosine,
    question_basis,
    scaled_w1,
    tdm,
    transition_gap,
    transition_matrix,
)


def test_transition_gap_hand_case():
    q = np.array([[1.0], [-1.0]])
    r_h = np.array([[2.0], [-2.0]])
    r_g = np.array([[1.0], [-1.0]])
    # T_H = (1*2 + (-1)(-2)) / 2 = 2; T_G = (1 + 1) / 2 = 1; gap = |1 - 2| / 2 = 0.5
    assert transition_matrix(q, r_h) == pytest.approx(np.array([[2.0]]))
    assert transition_gap(transition_matrix(q, r_g), transition_matrix(q, r_h)) == pytest.approx(0.5)
    # centring: adding a constant to every row changes nothing
    assert transition_matrix(q + 3, r_h - 7) == pytest.approx(np.array([[2.0]]))


def test_scaled_w1_hand_case():
    # W1([1,2,3,4], [0,1,2,3]) = 1; std([0,1,2,3]) = sqrt(1.25)
    assert scaled_w1(np.array([1.0, 2, 3, 4]), np.array([0.0, 1, 2, 3])) == pytest.approx(1 / np.sqrt(1.25))
    # constant human sample: std floor -> divide by 1
    assert scaled_w1(np.array([1.0, 1.0]), np.array([0.0, 0.0])) == pytest.approx(1.0)


def _dialogue_rows():
    en_topics = ["weather", "football", "music", "dinner", "travel", "movies", "books", "coffee"]
    zh_topics = ["天气", "足球", "音乐", "晚饭", "旅行", "电影", "读书", "咖啡"]
    q, h, g, b = [], [], [], []
    for i in range(24):
        t = en_topics[i % 8]
        q.append(f"what do you think about {t} today {i}?")
        h.append(f"i really like {t}, it is great {i}")
        g.append("ok")
        b.append("en|multi|dialogue|short")
    for i in range(24):
        t = zh_topics[i % 8]
        q.append(f"你觉得今天的{t}怎么样？")
        h.append(f"我很喜欢{t}，真不错")
        g.append(f"我觉得{t}很好，你呢")
        b.append("zh|multi|dialogue|short")
    q.append("tiny bucket?")
    h.append("yes")
    g.append("no")
    b.append("en|multi|dialogue|long")
    return q, h, g, b


def test_identical_responses_match_perfectly():
    q, h, _, b = _dialogue_rows()
    out = tdm(q, h, list(h), b, min_bucket_size=20)
    assert out["per_bucket"] == pytest.approx(
        {"en|multi|dialogue|short": 1.0, "zh|multi|dialogue|short": 1.0}
    )
    assert out["macro"] == pytest.approx(1.0)
    assert set(out["skipped"]) == {"en|multi|dialogue|long"}
    # rank of the questions' TF-IDF matrix: 24 English questions made distinct by their index
    # token, 8 distinct Chinese ones (each repeated 3 times) and the tiny bucket's one = 33; the
    # exact basis keeps exactly the directions with a nonzero singular value
    assert out["n_components"] == 24 + 8 + 1 < min(64, out["vocabulary_size"] - 1, len(q) - 1)


def _random_sparse(seed, rows=60, cols=200, density=0.05):
    rng = np.random.default_rng(seed)
    return sp.random(rows, cols, density=density, random_state=rng, format="csr")


def test_question_basis_spans_the_top_singular_subspace():
    a = _random_sparse(0)
    basis = question_basis(a, 10)
    # orthonormal columns
    assert basis.T @ basis == pytest.approx(np.eye(10), abs=1e-10)
    # the same subspace as a dense full SVD's first 10 right singular vectors (projectors agree)
    _, _, vt = np.linalg.svd(a.toarray(), full_matrices=False)
    v = vt[:10].T
    assert basis @ basis.T == pytest.approx(v @ v.T, abs=1e-9)


def test_question_basis_drops_null_directions_and_rejects_zero():
    # rank 2: the third row is the sum of the first two
    a = sp.csr_matrix(np.array([[1.0, 0, 0, 2], [0, 1.0, 0, 0], [1.0, 1.0, 0, 2]]))
    assert question_basis(a, 3).shape == (4, 2)
    with pytest.raises(ValueError, match="all zero"):
        question_basis(sp.csr_matrix((3, 4)), 2)


def test_tdm_does_not_depend_on_the_blas_thread_count():
    # the randomized SVD this replaced changed TDM in the third decimal between 1 and 2 BLAS
    # threads on real data; the exact basis agrees to rounding
    q, h, g, b = _dialogue_rows()
    with threadpool_limits(1):
        one = tdm(q, h, g, b, min_bucket_size=20)
    with threadpool_limits(2):
        two = tdm(q, h, g, b, min_bucket_size=20)
    assert one["per_bucket"] == pytest.approx(two["per_bucket"], abs=1e-12)


def test_different_responses_score_lower_and_deterministic():
    q, h, g, b = _dialogue_rows()
    a = tdm(q, h, g, b, min_bucket_size=20)
    assert a == tdm(q, h, g, b, min_bucket_size=20)
    en = a["per_bucket"]["en|multi|dialogue|short"]
    zh = a["per_bucket"]["zh|multi|dialogue|short"]
    assert 0 < en < 1 and 0 < zh < 1
    gaps = a["gaps"]["en|multi|dialogue|short"]
    # the same "ok" for every prompt: centred response latents are 0, so T_G = 0 and the
    # transition gap is ||0 - T_H|| / ||T_H|| = 1
    assert gaps["transition"] == pytest.approx(1.0)
    assert gaps["lexical_accommodation"] > 0 and gaps["length_ratio"] > 0
    assert set(gaps) == {"length_ratio", "lexical_accommodation", "semantic_coupling", "transition"}
    assert en == pytest.approx(np.mean([1 / (1 + v) for v in gaps.values()]))
    with pytest.raises(ValueError):
        tdm(q, h, g[:-1], b)


def test_row_cosine_treats_rounding_noise_as_zero():
    a = np.array([[1.0, 0.0], [1e-16, -2e-17], [3.0, 4.0]])
    b = np.array([[1.0, 1.0], [1.0, 0.0], [1e-30, 0.0]])
    # row 0: 1/sqrt(2); row 1: a is noise-sized -> 0 (its exact cosine would be 0.98); row 2: b
    assert _row_cosine(a, b) == pytest.approx([1 / np.sqrt(2), 0.0, 0.0])
