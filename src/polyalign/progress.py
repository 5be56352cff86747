"""Progress bars on an interactive terminal only.

A script's stderr is its rule log (polyalign.workflow.io.rule_logging) or a cluster job's output
file; there tqdm's carriage-return redraws pile up into unreadable lines, so the bar is off
whenever stderr is not a terminal. What a log needs (losses, timings, counts) is logged.
"""

from __future__ import annotations

import sys


def progress_bar(iterable=None, *, enabled: bool = True, **kwargs):
    """tqdm over `iterable` (kwargs as tqdm's), shown only when `enabled` and stderr is a terminal."""
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=not (enabled and sys.stderr.isatty()), **kwargs)
