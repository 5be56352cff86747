"""The evaluation's own 1-D W1 equals scipy's on ties, unequal sizes and hand-computed cases."""

import numpy as np
import pytest
from scipy.stats import wasserstein_distance as scipy_w1

from polyalign.metrics.distributional import wasserstein_distance


def test_hand_computed():
    # CDFs of {0, 1} and {1, 2} differ by 1/2 on [0, 2): area 1
    assert wasserstein_distance([0, 1], [1, 2]) == pytest.approx(1.0)
    assert wasserstein_distance([3.0], [3.0]) == 0.0
    # {0} vs {0, 4}: CDF gap 1/2 on [0, 4): area 2
    assert wasserstein_distance([0.0], [0.0, 4.0]) == pytest.approx(2.0)


@pytest.mark.parametrize("seed", range(5))
def test_equals_scipy(seed):
    rng = np.random.default_rng(seed)
    u = rng.normal(size=rng.integers(1, 40)).round(1)  # rounding makes ties
    v = rng.normal(0.3, 2.0, size=rng.integers(1, 40)).round(1)
    assert wasserstein_distance(u, v) == pytest.approx(scipy_w1(u, v), rel=1e-12, abs=1e-15)


def test_empty_sample_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        wasserstein_distance([], [1.0])
