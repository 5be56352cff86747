"""Corpus layer: fetching the embedded corpus, loaders behind one registry, splits and dedup."""
