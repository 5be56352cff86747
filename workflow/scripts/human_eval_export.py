"""Rule human_eval_export: the blind rating sheet of one language, its rating page and the
unblinding key (kept apart: hand raters only the page).

input:   records (test split), generations (one file per system, in params.systems order)
output:  page (self-contained HTML), sheet (the blinded items JSON), key (unblinding key JSON)
params:  language, systems, n_prompts, seed (sampling and shuffling), model_seed (whose outputs)
"""

from polyalign.human_eval.export import build_sheet, render_page
from polyalign.io import read_jsonl, write_json, write_text
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    outputs = {
        s: {row["id"]: row["answer"] for row in read_jsonl(path) if row.get("sample", 0) == 0}
        for s, path in zip(p.systems, snakemake.input.generations)
    }
    sheet, key = build_sheet(
        read_jsonl(snakemake.input.records),
        outputs,
        p.language,
        n_prompts=p.n_prompts,
        seed=p.seed,
        export_seed=p.model_seed,
    )
    log.info("sheet %s: %d prompts x %d systems", sheet["sheet"], len(key["prompts"]), len(outputs))
    write_json(snakemake.output.sheet, sheet)
    write_json(snakemake.output.key, key)
    write_text(snakemake.output.page, render_page(sheet))
