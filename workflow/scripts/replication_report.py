"""Rule replication_report: our numbers beside the published ones, language fidelity, and
verdicts on the 5 claims, pooled over run seeds and per seed.

input:   summary      results/metrics/summary.json
         replicates   results/metrics/bootstrap_replicates.npz (pooled bootstrap draws)
         detectors    optional [results/detectors/summary.json] (Table 4, pooled over run seeds)
         detector_replicates  optional [results/detectors/ai_rate_replicates.npz], its paired
                      bootstrap replicates; both absent = claim 5 "not evaluated"
         judge        results/judge/table3_summary.json (what the LLM judges did, or why none ran)
         human        results/human_eval/table8_summary.json (returned human ratings, if any)
         ablations    [results/metrics/ablations.json] when the config declares variants, else
                      []: the "What does the work" section
output:  md           paper_figures/replication.md
params:  profile      config["profile"] (anything but "paper" prints the scale caveat)
         published_model                 config["replication"]["published_model"]
         noninferiority_margin_relative  config["replication"]["noninferiority_margin_relative"]
"""

from polyalign.evaluation.pooled import load_replicates
from polyalign.io import InputError, read_json, write_text
from polyalign.report.ablations import work_section
from polyalign.report.judge_human import human_section, judge_section
from polyalign.report.published import load_published
from polyalign.report.replication import evaluate_claims, replication_markdown
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    summary = read_json(snakemake.input.summary)
    replicates = load_replicates(snakemake.input.replicates)
    detector_files = list(snakemake.input.get("detectors") or [])
    replicate_files = list(snakemake.input.get("detector_replicates") or [])
    if len(detector_files) != len(replicate_files) or len(detector_files) > 1:
        raise InputError(
            f"replication_report: give one detector summary with its replicates or neither "
            f"(got {detector_files} and {replicate_files})"
        )
    detectors = read_json(detector_files[0]) if detector_files else None
    detector_replicates = load_replicates(replicate_files[0]) if replicate_files else None
    ablations = [read_json(f) for f in snakemake.input.get("ablations") or []]
    published = load_published()
    margin = float(p.noninferiority_margin_relative)
    claims = evaluate_claims(
        summary,
        replicates,
        published["claims"]["list"],
        relative_margin=margin,
        detectors=detectors,
        detector_replicates=detector_replicates,
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
            + human_section(read_json(snakemake.input.human), published)
            + [line for a in ablations for line in work_section(a["rows"], a["labels"])],
        ),
    )
    for c in claims:
        log.info(
            "claim %d: %s (per seed: %s)",
            c["id"],
            c["verdict"],
            ", ".join(f"{s} {v}" for s, v in c["per_seed"].items()),
        )
