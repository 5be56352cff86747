"""The evaluation stage: every metric for one system and seed on the full test split, and the
pooled results over seeds with two-level t intervals (docs/evaluation.md).

MAUVE's clustering imports faiss and scikit-learn inside the functions that need it.

The package re-exports nothing: a module imports what it uses from its submodule, so that a
job loads only those (torch, scipy.stats and scikit-learn take seconds) and a rule's code digest
covers only the modules it reaches.
"""
