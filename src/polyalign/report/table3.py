"""Table 3: judge composites (0-100) per language and system, per judge and averaged over judges,
with pooled intervals, agreement between judges, and the published numbers beside them."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..judge.pooling import two_level_mean_ci
from ..metrics.judge import COMPOSITE_WEIGHTS, DIMENSIONS, judge_composites
from .tables import write_tables

COMPOSITES = tuple(COMPOSITE_WEIGHTS)
COLUMN_LABELS = {
    "overall": "Overall",
    "utility": "Utility",
    "conditional_naturalness": "Cond. Naturalness",
    "distribution_faithfulness": "Distr. Faithfulness",
}
MEAN_JUDGE = "mean of judges"


def row_composites(row: dict) -> dict[str, float]:
    """0-100 composites of one scored row, from the chosen integers (the paper's form)."""
    return {k: float(v) for k, v in judge_composites(row["scores"])["composites"].items()}


def composite_arrays(rows_by_run: dict, seeds: list, systems: list[str], ids: list[str]) -> dict:
    """{(judge, system): {composite: array [n_seeds, n_prompts]}} with NaN where a row is over
    length; rows_by_run maps (judge, seed, system) to scored rows."""
    position = {pid: j for j, pid in enumerate(ids)}
    out = {}
    for judge in sorted({j for j, _, _ in rows_by_run}):
        for system in systems:
            arr = {c: np.full((len(seeds), len(ids)), np.nan) for c in COMPOSITES}
            for s, seed in enumerate(seeds):
                for row in rows_by_run[(judge, seed, system)]:
                    if row.get("over_length") or row["id"] not in position:  # over length, other language
                        continue
                    for c, v in row_composites(row).items():
                        arr[c][s, position[row["id"]]] = v
            out[(judge, system)] = arr
    return out


def judge_agreement(arrays: dict, judges: list[str], systems: list[str]) -> dict:
    """Pearson r and mean absolute difference between every two judges, per composite, over the
    (seed, system, prompt) cells both scored."""
    result = {}
    for a in range(len(judges)):
        for b in range(a + 1, len(judges)):
            pair = f"{judges[a]} vs {judges[b]}"
            result[pair] = {}
            for c in COMPOSITES:
                x = np.concatenate([arrays[(judges[a], s)][c].ravel() for s in systems])
                y = np.concatenate([arrays[(judges[b], s)][c].ravel() for s in systems])
                ok = np.isfinite(x) & np.isfinite(y)
                r = (
                    float(np.corrcoef(x[ok], y[ok])[0, 1])
                    if ok.sum() > 2 and x[ok].std() > 0 and y[ok].std() > 0
                    else float("nan")
                )
                result[pair][c] = {
                    "pearson": r,
                    "mean_abs_diff": float(np.abs(x[ok] - y[ok]).mean()) if ok.any() else float("nan"),
                    "n": int(ok.sum()),
                }
    return result


def summarize(
    rows_by_run: dict,
    records: list[dict],
    seeds: list,
    systems: list[str],
    *,
    n_resamples: int,
    seed: int,
    alpha: float = 0.05,
) -> dict:
    """Per language: per judge (and the mean over judges) and system, each composite's seed mean
    with its two-level t interval (the seed spread plus a bootstrap over prompts, the same draws for every system)."""
    judges = sorted({j for j, _, _ in rows_by_run})
    summary = {"judges": judges, "seeds": list(seeds), "systems": list(systems), "languages": {}}
    counts = defaultdict(lambda: {"scored": 0, "over_length": 0})
    for (judge, _, system), rows in rows_by_run.items():
        for row in rows:
            counts[f"{judge}/{system}"]["over_length" if row.get("over_length") else "scored"] += 1
    summary["counts"] = dict(counts)
    for language in sorted({r["language"] for r in records}):
        ids = [r["id"] for r in records if r["language"] == language]
        arrays = composite_arrays(rows_by_run, seeds, systems, ids)
        for system in systems:
            arrays[(MEAN_JUDGE, system)] = {
                c: np.nanmean(np.stack([arrays[(j, system)][c] for j in judges]), axis=0) for c in COMPOSITES
            }
        block = {}
        for judge in [*judges, MEAN_JUDGE] if len(judges) > 1 else judges:
            cis = {}
            for c in COMPOSITES:
                per_system = two_level_mean_ci(
                    {s: arrays[(judge, s)][c] for s in systems},
                    n_resamples=n_resamples,
                    seed=seed,
                    alpha=alpha,
                )
                for system, ci in per_system.items():
                    cis.setdefault(system, {})[c] = ci
            block[judge] = cis
        summary["languages"][language] = {
            "n_prompts": len(ids),
            "by_judge": block,
            "agreement": judge_agreement(arrays, judges, systems),
        }
    return summary


def _fmt(ci: dict) -> str:
    if not np.isfinite(ci["point"]):
        return "–"
    return f"{ci['point']:.1f} [{ci['low']:.1f}, {ci['high']:.1f}]"


def published_rows(published: dict) -> tuple[list[str], list[list[str]]]:
    t3 = published["table3_judge"]
    headers = ["model", "language", "system", *[COLUMN_LABELS[c] for c in t3["composites"]]]
    rows = [
        [t3["model"], lang, label, *[f"{vals[c]:.1f}" for c in t3["composites"]]]
        for lang, systems in t3["values"].items()
        for label, vals in systems.items()
    ]
    return headers, rows


def table3_sections(
    summary: dict | None, published: dict, labels: dict[str, str], reason: str | None
) -> list[dict]:
    """Sections of Table 3. Without a summary (no judge ran) only the published numbers and the
    reason are shown; no row of ours is invented."""
    pub_headers, pub_rows = published_rows(published)
    t3 = published["table3_judge"]
    sections = []
    if summary is None:
        sections.append(
            {
                "title": "Table 3: LLM-as-a-judge (not run in this profile)",
                "headers": ["status"],
                "rows": [[reason]],
                "caption": reason,
                "label": "tab:judge-status",
            }
        )
    else:
        level = None
        for language, block in summary["languages"].items():
            for judge, cis in block["by_judge"].items():
                rows = [
                    [labels.get(s, s), *[_fmt(cis[s][c]) for c in COMPOSITES]] for s in summary["systems"]
                ]
                level = level or round(100 * (1 - next(iter(cis.values()))["overall"]["alpha"]))
                sections.append(
                    {
                        "title": f"Table 3 ({language}): judge {judge}",
                        "headers": ["system", *[COLUMN_LABELS[c] for c in COMPOSITES]],
                        "rows": rows,
                        "caption": f"LLM-judge composites (0-100) on {block['n_prompts']} {language} test prompts, "
                        f"mean over seeds {summary['seeds']} with {level}% two-level t intervals "
                        "(the seed spread plus a bootstrap over prompts; paired across systems).",
                        "label": f"tab:judge-{language}-{judge}".replace(" ", "-"),
                    }
                )
            agreement_rows = [
                [pair, COLUMN_LABELS[c], f"{v['pearson']:.3f}", f"{v['mean_abs_diff']:.1f}", str(v["n"])]
                for pair, comps in block["agreement"].items()
                for c, v in comps.items()
            ]
            if agreement_rows:
                sections.append(
                    {
                        "title": f"Judge agreement ({language})",
                        "headers": ["judges", "composite", "Pearson r", "mean |diff|", "n"],
                        "rows": agreement_rows,
                        "label": f"tab:judge-agreement-{language}",
                    }
                )
    sections.append(
        {
            "title": f"Published (paper, {t3['model']})",
            "headers": pub_headers,
            "rows": pub_rows,
            "caption": t3["source"],
            "label": "tab:judge-published",
        }
    )
    return sections


def write_table3(
    summary: dict | None, published: dict, labels: dict[str, str], reason: str | None, md_path, tex_path
) -> None:
    write_tables(table3_sections(summary, published, labels, reason), md_path, tex_path)


__all__ = ["COMPOSITES", "DIMENSIONS", "summarize", "write_table3", "judge_agreement", "row_composites"]
