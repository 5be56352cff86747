"""faiss k-means without its "please provide at least 39*k training points" warning.

faiss prints that warning from C++ straight to the process's stderr (past Python's redirection
into the rule log) whenever it clusters fewer than 39 points per centroid. MAUVE and the scope
metrics do so by design (clusters are chosen from n, e.g. n/10), so on the embedded run it
reached the console ~240 times with nothing to act on. The threshold only decides the warning
(faiss' own check of at least one point per centroid stays), so the clusters are unchanged.
"""

from __future__ import annotations

import contextlib
from unittest import mock


def quiet_kmeans_class():
    import faiss

    class QuietKmeans(faiss.Kmeans):
        def __init__(self, d, k, **kwargs):
            kwargs.setdefault("min_points_per_centroid", 1)
            super().__init__(d, k, **kwargs)

    return QuietKmeans


@contextlib.contextmanager
def quiet_faiss_kmeans():
    """faiss.Kmeans without the warning for the duration (for library code that builds its own,
    such as mauve.compute_mauve)."""
    import faiss

    with mock.patch.object(faiss, "Kmeans", quiet_kmeans_class()):
        yield
