"""Rule table8_human_eval: Table 8 from the returned rating files (unblinded with the keys),
beside the published Chinese numbers. Without returned ratings it says so; it never invents any.

input:   sheet_keys (one unblinding key per language), ratings (every returned file, any language)
output:  md, tex, summary (JSON)
params:  languages (order of keys), ratings_by_language, systems, bootstrap (n_resamples, seed)
"""

from polyalign.human_eval.aggregate import summarize_sheet
from polyalign.io import read_json, write_json
from polyalign.report.published import load_published, system_label
from polyalign.report.table8 import write_table8
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    summaries = {}
    for language, key_path in zip(p.languages, snakemake.input.sheet_keys):
        summaries[language] = summarize_sheet(
            read_json(key_path),
            p.ratings_by_language[language],
            n_resamples=p.bootstrap["n_resamples"],
            seed=p.bootstrap["seed"],
        )
        log.info(
            "%s: %s",
            language,
            "no ratings returned"
            if summaries[language] is None
            else f"{len(summaries[language]['raters'])} rater(s)",
        )
    labels = {s: system_label(s) for s in p.systems}
    write_table8(summaries, load_published(), labels, snakemake.output.md, snakemake.output.tex)
    write_json(snakemake.output.summary, summaries)
