"""faiss' few-points-per-centroid warning is silenced without changing the clusters."""

import faiss
import numpy as np

from polyalign.metrics.mauve_metrics import mauve_score
from polyalign.metrics.quiet_kmeans import quiet_kmeans_class


def test_same_centroids_without_the_warning(capfd):
    x = np.random.default_rng(0).normal(size=(60, 8)).astype(np.float32)
    plain = faiss.Kmeans(8, 5, niter=20, seed=3)
    plain.train(x)
    assert "WARNING clustering 60 points to 5 centroids" in capfd.readouterr().err
    quiet = quiet_kmeans_class()(8, 5, niter=20, seed=3)
    quiet.train(x)
    assert capfd.readouterr().err == ""
    np.testing.assert_array_equal(plain.centroids, quiet.centroids)


def test_mauve_prints_no_faiss_warning(capfd):
    rng = np.random.default_rng(0)
    mauve_score(rng.normal(size=(40, 8)), rng.normal(size=(40, 8)))
    captured = capfd.readouterr()
    assert "WARNING clustering" not in captured.err + captured.out
    assert faiss.Kmeans.__name__ == "Kmeans"  # the patch ends with the call
