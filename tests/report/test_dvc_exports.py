"""The per-seed rows behind `dvc plots`: one row per (system, seed) with the overall values."""

from polyalign.report.dvc_exports import PER_SEED_METRICS, per_seed_rows


def test_per_seed_rows_read_the_point_estimates_of_each_seed():
    metrics = {
        ("hdpo", 1): {"headline": {"overall": {PER_SEED_METRICS[0]: 0.25}}},
        ("hdpo", 0): {"headline": {"overall": {PER_SEED_METRICS[0]: 0.5}}},
    }
    rows = per_seed_rows(metrics)
    assert [r["run"] for r in rows] == ["hdpo/seed0", "hdpo/seed1"]
    assert rows[0][PER_SEED_METRICS[0]] == 0.5 and rows[1][PER_SEED_METRICS[0]] == 0.25
    assert all(r[name] is None for r in rows for name in PER_SEED_METRICS[1:])
