"""Rule replication_report: our numbers beside the published ones, language fidelity, and
verdicts on the 5 claims, pooled over run seeds and per seed.

input:   summary      results/metrics/summary.json
         replicates   results/metrics/bootstrap_replicates.npz (pooled bootstrap draws)
         test         results/corpus/test.jsonl (languages of the ids, for detector flags)
         detectors    optional list of JSONL files with rows {id, system, detector, flagged};
                      absent = claim 5 "not evaluated"
         judge        results/judge/table3_summary.json (what the LLM judges did, or why none ran)
         human        results/human_eval/table8_summary.json (returned human ratings, if any)
output:  md           paper_figures/replication.md
params:  profile      config["profile"] (anything but "paper" prints the scale caveat)
         published_model                 config["replication"]["published_model"]
         noninferiority_margin_relative  config["replication"]["noninferiority_margin_relative"]
"""

from polyalign.evaluation import load_replicates
from polyalign.io import read_json, read_jsonl, write_text
from polyalign.report.judge_human import human_section, judge_section
from polyalign.report.published import load_published
from polyalign.report.replication import evaluate_claims, replication_markdown
from polyalign.workflow_io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    summary = read_json(snakemake.input.summary)
    replicates = load_replicates(snakemake.input.replicates)
    detectors = {}
    for path in snakemake.input.get("detectors") or []:
        for row in read_jsonl(path):
            flags = detectors.setdefault(row["detector"], {}).setdefault(row["system"], {})
            flags[row["id"]] = bool(row["flagged"])
    lang_of = {r["id"]: r["language"] for r in read_jsonl(snakemake.input.test)}
    published = load_published()
    margin = float(p.noninferiority_margin_relative)
    claims = evaluate_claims(
        summary,
        replicates,
        published["claims"]["list"],
        relative_margin=margin,
        detectors=detectors,
        lang_of=lang_of,
    )
    write_text(
        snakemake.output.md,
        replication_markdown(
            summary,
            published,
            claims,
            model=p.published_model,
            profile=p.profile,
            relative_margin=margin,
            extra_sections=judge_section(read_json(snakemake.input.judge), published)
            + human_section(read_json(snakemake.input.human), published),
        ),
    )
    for c in claims:
        log.info(
            "claim %d: %s (per seed: %s)",
            c["id"],
            c["verdict"],
            ", ".join(f"{s} {v}" for s, v in c["per_seed"].items()),
        )
