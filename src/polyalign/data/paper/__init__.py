"""Loaders of the paper's 14 corpora (docs/corpora.md), registered on import.

Each loader is ``load(source) -> Iterator[raw record]`` (see `polyalign.records`). `source` is the
corpus' config entry:

- ``path``: for Hugging Face sources a hub id (default: the id listed in docs/corpora.md) or a local copy of
  the repository in its real layout; for ELI5-Category, MultiWOZ 2.2 and DuReader a local
  directory holding the original files (required).
- optional ``revision`` (hub sources), ``cache_dir`` (passed to ``datasets.load_dataset``),
  ``streaming`` (stream instead of building the Arrow cache), ``config`` (ms_marco,
  squad_v2, natural_questions), ``subsets`` (coig_cqia, dureader), ``file`` (hc3_chinese).

Skipped rows are counted by reason in ``source["_skipped"]`` (a Counter) for the build log.
"""

from . import archives, dialogue, hf_chinese, hf_english  # noqa: F401  (registration)
