"""Rule replication_report: our numbers beside the published ones; verdicts on the 5 claims.

input:   summary      results/metrics/summary.json
         bootstraps   list of results/metrics/{system}.bootstrap.json (all systems)
         test         results/corpus/test.jsonl (languages of the ids, for detector flags)
         detectors    optional list of JSONL files with rows {id, system, detector, flagged};
                      absent = claim 5 "not evaluated"
         judge        results/judge/table3_summary.json (what the LLM judges did, or why none ran)
         human        results/human_eval/table8_summary.json (returned human ratings, if any)
output:  md           paper_figures/replication.md
params:  profile      config["profile"] (anything but "paper" prints the scale caveat)
         published_model        config["replication"]["published_model"]
         noninferiority_margin  config["replication"]["noninferiority_margin"]
"""
from polyalign.evaluation import load_bootstrap
from polyalign.io import read_json, read_jsonl, write_text
from polyalign.report.judge_human import human_section, judge_section
from polyalign.report.published import load_published
from polyalign.report.replication import evaluate_claims, replication_markdown
from polyalign.workflow_io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    summary = read_json(snakemake.input.summary)
    boots = {b["system"]: b for b in map(load_bootstrap, snakemake.input.bootstraps)}
    detectors = {}
    for path in snakemake.input.get("detectors") or []:
        for row in read_jsonl(path):
            flags = detectors.setdefault(row["detector"], {}).setdefault(row["system"], {})
            flags[row["id"]] = bool(row["flagged"])
    lang_of = {r["id"]: r["language"] for r in read_jsonl(snakemake.input.test)}
    published = load_published()
    margin = p["noninferiority_margin"]
    claims = evaluate_claims(summary, boots, published["claims"]["list"], margin=margin,
                             detectors=detectors, lang_of=lang_of)
    write_text(snakemake.output.md, replication_markdown(
        summary, published, claims, model=p["published_model"],
        profile=p["profile"], margin=margin,
        extra_sections=judge_section(read_json(snakemake.input.judge), published)
        + human_section(read_json(snakemake.input.human), published)))
    for c in claims:
        log.info("claim %d: %s", c["id"], c["verdict"])
