"""The evaluation stage: every metric for one system and seed on the full test split, and the
pooled results over seeds with two-level t intervals (docs/evaluation.md).

MAUVE's clustering imports faiss and scikit-learn inside the functions that need it.
"""

from .evaluate import evaluate_system
from .pooled import (
    draw_counts,
    headline_intervals,
    interval_summary,
    load_replicates,
    minimum_detectable_effect,
    paired_difference,
    pooled_replicates,
    save_replicates,
)
from .replicates import (
    ResampleArrays,
    load_resample_arrays,
    save_resample_arrays,
    weighted_replicates,
)
from .rows import EmbeddingTable, FeatureArrays, load_embedding_table
from .scope_metrics import CHEAP_METRICS, HEADLINE_METRICS, MAUVE_METRICS
from .settings import (
    BootstrapSettings,
    DiversitySettings,
    EvaluationSettings,
    settings_from_config,
)
from .store import (
    compact_headline,
    load_metrics,
    number,
    pooled_summary,
    summary_tsv,
    write_metrics,
)

__all__ = [
    "CHEAP_METRICS",
    "HEADLINE_METRICS",
    "MAUVE_METRICS",
    "BootstrapSettings",
    "DiversitySettings",
    "EmbeddingTable",
    "EvaluationSettings",
    "FeatureArrays",
    "ResampleArrays",
    "compact_headline",
    "draw_counts",
    "evaluate_system",
    "headline_intervals",
    "interval_summary",
    "load_embedding_table",
    "load_metrics",
    "load_replicates",
    "load_resample_arrays",
    "minimum_detectable_effect",
    "number",
    "paired_difference",
    "pooled_replicates",
    "pooled_summary",
    "save_replicates",
    "save_resample_arrays",
    "weighted_replicates",
    "settings_from_config",
    "summary_tsv",
    "write_metrics",
]
