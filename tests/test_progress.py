"""Progress bars stay out of rule logs (no carriage-return redraws) and on the terminal."""

import io
import os

from polyalign.features.extract import extract_text_features
from polyalign.progress import progress_bar
from polyalign.workflow.io import rule_logging


def test_a_rule_log_gets_no_progress_bar(tmp_path):
    log = tmp_path / "rule.log"
    with rule_logging(str(log)):
        extract_text_features(
            ["Hello there, how are you?", "你好，今天怎么样？"] * 50, ["en", "zh"] * 50, progress=True
        )
        for _ in progress_bar(range(100), desc="loop", mininterval=0):
            pass
    text = log.read_text()
    assert "\r" not in text and "text features" not in text and "loop" not in text
    assert "finished in" in text  # the log itself was written


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_gets_the_bar(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    for _ in progress_bar(range(3), desc="loop", mininterval=0):
        pass
    assert "loop" in terminal.getvalue() and "3/3" in terminal.getvalue()
    for _ in progress_bar(range(3), desc="off", enabled=False):
        pass
    assert "off" not in terminal.getvalue()


def test_rule_logging_turns_off_the_hub_and_transformers_bars(tmp_path, monkeypatch):
    """transformers' own "Loading weights" bar wrote carriage returns into rule logs."""
    import transformers.utils.logging as hf_logging

    from polyalign.workflow.io import rule_logging

    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    hf_logging.enable_progress_bar()
    try:
        with rule_logging(str(tmp_path / "job.log")):
            assert not hf_logging.is_progress_bar_enabled()
            assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
    finally:
        hf_logging.enable_progress_bar()
