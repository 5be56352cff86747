"""benchmarks/verdict_stability.py: which verdict changes between two runs count as instability."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "verdict_stability", Path(__file__).resolve().parents[2] / "benchmarks" / "verdict_stability.py"
)
vs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vs)

REPORT = """# Replication

| # | claim | en | zh | verdict | seed 0 |
|---|---|---|---|---|---|
| 1 | Claim one. | {c1} | below floor | **{c1}** | x |
| 2 | Claim two. | supported | supported | **supported** | x |

| # | language | comparison | metric | difference (first - second) [CI] | margin | floor | verdict | MDE | per seed |
|---|---|---|---|---|---|---|---|---|---|
| 1 | en | A better than B | QA-F1 | 0.1 [0.0, 0.2] |  | 0.1 | {v1} |  | x |
| 2 | zh | C better than D | NUF | 0.1 [0.0, 0.2] |  | 0.1 | {v2} |  | x |

## What does the work (ablations)

- V vs P: **{abl}** (below floor: {cells})
"""


def _write(tmp_path, name, **kw):
    path = tmp_path / name
    path.write_text(REPORT.format(**kw), encoding="utf-8")
    return path


def test_flips_and_floor_changes_are_instability_a_move_to_inconclusive_is_not(tmp_path):
    a = _write(
        tmp_path, "a.md", c1="supported", v1="supported", v2="below floor", abl="helps", cells="QA-F1 (en)"
    )
    b = _write(
        tmp_path,
        "b.md",
        c1="inconclusive",
        v1="contradicted",
        v2="inconclusive",
        abl="hurts",
        cells="NUF (zh)",
    )
    rows = {item: change for item, _, _, change in vs.compare(vs.verdicts(a), vs.verdicts(b))}
    assert rows["claim 1"] == "moved (not instability)"
    assert rows["claim 2"] == ""
    assert rows["claim 1 | en | A better than B | QA-F1"] == "FLIP"
    assert rows["claim 2 | zh | C better than D | NUF"] == "FLOOR CHANGE"
    assert rows["ablation V vs P"] == "FLIP"
    assert rows["ablation V vs P: cells below floor"] == "FLOOR CHANGE"
    assert vs.main([str(a), str(b)]) == 1 and vs.main([str(a), str(a)]) == 0
