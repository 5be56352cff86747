"""Rule figure_detector_roc: ROC curves of every system against the human test answers, one
panel per detector and language; each curve is the vertical average of the run seeds' curves
and its AUROC the mean of theirs (polyalign.detectors.summary.roc_curves).

input:   zero_shot, trained  per run seed (params.seeds order): detector score JSONL files
         test    results/corpus/test.jsonl
output:  png, pdf  paper_figures/figure_detector_roc.{png,pdf}
params:  seeds, systems, cjk_font
"""

from polyalign.detectors.settings import DETECTOR_LABELS, DETECTORS
from polyalign.detectors.summary import roc_curves
from polyalign.io import read_jsonl
from polyalign.report.detector_figures import figure_detector_roc
from polyalign.report.published import system_label
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]):
    rows_by_seed = {
        str(seed): read_jsonl(zero_shot) + read_jsonl(trained)
        for seed, zero_shot, trained in zip(
            snakemake.params.seeds, snakemake.input.zero_shot, snakemake.input.trained
        )
    }
    test = [(r["id"], r["language"]) for r in read_jsonl(snakemake.input.test)]
    curves = roc_curves(rows_by_seed, test, snakemake.params.systems, DETECTORS)
    labelled = {
        DETECTOR_LABELS[d]: {lg: {system_label(s): c for s, c in per.items()} for lg, per in langs.items()}
        for d, langs in curves.items()
    }
    figure_detector_roc(
        labelled, snakemake.output.png, snakemake.output.pdf, cjk_font=snakemake.params.cjk_font
    )
