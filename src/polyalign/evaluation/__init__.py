"""The evaluation stage: every metric of docs/method.md §9 for one system on the full test split, with
bootstrap confidence intervals, and the combination of all systems (docs/evaluation.md).

MAUVE is imported lazily inside the functions that need it (mauve-text imports transformers).
"""
from .combine import combine_metrics, summary_tsv
from .evaluate import evaluate_system
from .inputs import EmbeddingTable, FeatureArrays, load_embedding_table
from .paired import paired_difference
from .scope_metrics import CHEAP_METRICS, EXPENSIVE_METRICS, HEADLINE_METRICS
from .settings import BootstrapSettings, DiversitySettings, EvaluationSettings, settings_from_config
from .store import load_bootstrap, load_metrics, number, write_metrics

__all__ = [
    "BootstrapSettings", "CHEAP_METRICS", "DiversitySettings", "EXPENSIVE_METRICS",
    "EmbeddingTable", "EvaluationSettings", "FeatureArrays", "HEADLINE_METRICS",
    "combine_metrics", "evaluate_system", "load_bootstrap", "load_embedding_table",
    "load_metrics", "number", "paired_difference", "settings_from_config",
    "summary_tsv", "write_metrics",
]
