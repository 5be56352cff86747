"""φ(y): bilingual, language-aware response features (docs/method.md §3). See docs/features.md.

The package re-exports nothing: a module imports what it uses from its submodule, so that a
job loads only those (torch, scipy.stats and scikit-learn take seconds) and a rule's code digest
covers only the modules it reaches.
"""
