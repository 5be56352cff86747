"""Keep Hugging Face loading in these tests off the network and out of the user's cache.

The environment variables only count if `datasets`/`huggingface_hub` were not imported yet;
the `hf_offline` fixture also patches their live configuration (tests opt in with it).
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def hf_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("hf_cache")


@pytest.fixture
def hf_offline(hf_cache, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(hf_cache / "home"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(hf_cache / "datasets"))
    import datasets.config
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", hf_cache / "datasets")
    monkeypatch.setattr(datasets.config, "HF_MODULES_CACHE", hf_cache / "modules")
    monkeypatch.setattr(datasets.config, "DOWNLOADED_DATASETS_PATH", hf_cache / "downloads")
    return hf_cache
