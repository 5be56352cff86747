"""Metric suite of docs/method.md §9 as pure functions (docs/metrics.md describes every metric).

The package re-exports nothing: a module imports what it uses from its submodule, so that a
job loads only those (torch, transformers via mauve-text, scipy.stats and scikit-learn take
seconds) and a rule's code digest covers only the modules it reaches.
"""
