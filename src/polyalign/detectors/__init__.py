"""AI-text detectors (docs/detectors.md): zero-shot criteria from a pair of causal LMs that share a
tokenizer (Fast-DetectGPT, Binoculars), a trained human-vs-model classifier, and their
calibration and summaries."""
