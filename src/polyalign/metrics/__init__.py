"""Metric suite of docs/method.md §9 as pure functions (docs/metrics.md describes every metric).

MAUVE lives in `polyalign.metrics.mauve_metrics` and is not imported here, because the
mauve-text package imports transformers (seconds); import it where it is needed.

The package re-exports nothing: a module imports what it uses from its submodule, so that a
job loads only those (torch, scipy.stats and scikit-learn take seconds) and a rule's code digest
covers only the modules it reaches.
"""
