"""Metric suite of docs/method.md §9 as pure functions (docs/metrics.md describes every metric).

MAUVE lives in `polyalign.metrics.mauve_metrics` and is not imported here, because the
mauve-text package imports transformers (seconds); import it where it is needed.
"""

from polyalign.metrics.bootstrap import bootstrap_ci, bootstrap_mean_ci
from polyalign.metrics.detectors import detection_metrics, detector_auroc, joint_score, predicted_ai_rate
from polyalign.metrics.distributional import bng, bng_robust, hcr
from polyalign.metrics.diversity import distinct_n, diversity_scores, self_bleu, sentence_bleu
from polyalign.metrics.fidelity import language_fidelity
from polyalign.metrics.frontier import aggregate_score, hypervolume, naturalness_utility_frontier
from polyalign.metrics.judge import judge_composites, mean_judge_report, score_to_100
from polyalign.metrics.tdm import tdm
from polyalign.metrics.utility import exact_match, qa_f1, rouge_l_f1, utility_scores

__all__ = [
    "aggregate_score",
    "bng",
    "bng_robust",
    "bootstrap_ci",
    "bootstrap_mean_ci",
    "detector_auroc",
    "detection_metrics",
    "distinct_n",
    "diversity_scores",
    "exact_match",
    "hcr",
    "hypervolume",
    "joint_score",
    "judge_composites",
    "language_fidelity",
    "mean_judge_report",
    "naturalness_utility_frontier",
    "predicted_ai_rate",
    "qa_f1",
    "rouge_l_f1",
    "score_to_100",
    "self_bleu",
    "sentence_bleu",
    "tdm",
    "utility_scores",
]
