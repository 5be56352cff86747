"""Table 8: the returned human ratings per language beside the published Chinese numbers."""

from __future__ import annotations

from ..human_eval import CRITERIA
from .tables import write_tables

CRITERION_LABELS = {
    "task": "Task",
    "grounding": "Grounding",
    "follow": "Follow",
    "align": "Align",
    "quality": "Quality",
    "mean": "Mean",
}


def _fmt(ci: dict) -> str:
    return f"{ci['point']:.2f} [{ci['low']:.2f}, {ci['high']:.2f}]"


def table8_sections(summaries: dict[str, dict | None], published: dict, labels: dict[str, str]) -> list[dict]:
    """One section per language with returned ratings (or a line saying none were returned),
    then the published numbers."""
    t8 = published["table8_human_eval"]
    sections = []
    for language, summary in sorted(summaries.items()):
        if summary is None:
            sections.append(
                {
                    "title": f"Table 8 ({language}): human evaluation",
                    "headers": ["status"],
                    "rows": [
                        [
                            f"No ratings have been returned for the {language} sheet; no human "
                            "evaluation of these systems exists yet."
                        ]
                    ],
                }
            )
            continue
        cols = [*CRITERIA, "mean"]
        rows = [[labels.get(s, s), *[_fmt(v[c]) for c in cols]] for s, v in summary["systems"].items()]
        alpha = summary["krippendorff_alpha_ordinal"]
        agreement = (
            "one rater: no inter-rater agreement"
            if alpha["all"] is None
            else "Krippendorff's alpha (ordinal): "
            + ", ".join(f"{CRITERION_LABELS.get(c, c)} {alpha[c]:.2f}" for c in (*CRITERIA, "all"))
        )
        sections.append(
            {
                "title": f"Table 8 ({language}): human evaluation",
                "headers": ["system", *[CRITERION_LABELS[c] for c in cols]],
                "rows": rows,
                "caption": f"Blind ratings 1-5 of {summary['n_prompts']} prompts by {len(summary['raters'])} rater(s); "
                f"95% bootstrap intervals over raters and prompts ({summary['n_resamples']} resamples); "
                f"{agreement}.",
            }
        )
    sections.append(
        {
            "title": f"Published (paper, {t8['language']}, n = {t8['n']})",
            "headers": ["system", "mean rating 1-5"],
            "rows": [[labels.get(s, s), f"{v:.2f}"] for s, v in t8["systems"].items()],
            "caption": t8["source"],
        }
    )
    return sections


def write_table8(summaries, published, labels, md_path, tex_path) -> None:
    write_tables(table8_sections(summaries, published, labels), md_path, tex_path)
