"""A configured GPU run fails at its first model job, naming the torch build, when torch sees no
CUDA: `device: cuda`, or `auto` in the paper profile (never a silent CPU run)."""

import re
from pathlib import Path

import pytest
import torch
import yaml

from polyalign.device.policy import REQUIRE_CUDA_ENV, cuda_required
from polyalign.models import runtime
from polyalign.train import launch

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv(REQUIRE_CUDA_ENV, raising=False)


def test_which_configs_require_cuda():
    assert cuda_required({"profile": "paper", "model": {"device": "auto"}})
    assert cuda_required({"profile": "embedded", "model": {"device": "cuda:1"}})
    assert not cuda_required({"profile": "paper", "model": {"device": "cpu"}})  # the CPU CI run
    assert not cuda_required({"profile": "embedded", "model": {"device": "auto"}})
    paper = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    assert cuda_required(paper)


def test_cuda_without_cuda_names_the_torch_build(no_cuda):
    with pytest.raises(RuntimeError) as err:
        runtime.inference_device("cuda")
    assert f"torch {torch.__version__}" in str(err.value)
    assert ("CPU-only build" in str(err.value)) == (torch.version.cuda is None)


def test_auto_falls_back_to_cpu_only_when_no_gpu_run_was_configured(no_cuda, monkeypatch):
    assert runtime.inference_device("auto") == torch.device("cpu")
    assert runtime.inference_device("cpu") == torch.device("cpu")
    monkeypatch.setenv(REQUIRE_CUDA_ENV, "1")
    with pytest.raises(
        RuntimeError, match=re.escape(f"torch {torch.__version__}") + f".*{REQUIRE_CUDA_ENV} is set"
    ):
        runtime.inference_device("auto")
    assert runtime.inference_device("cpu") == torch.device("cpu")  # an explicit cpu block is chosen


def test_training_launch_fails_before_training_without_cuda(no_cuda, monkeypatch, tmp_path):
    monkeypatch.setenv(REQUIRE_CUDA_ENV, "1")
    ran = []
    job = {
        "stage": "sft",
        "inputs": {},
        "config": {
            "model": {"source": "Qwen/Qwen2.5-1.5B", "device": "cuda"},
            "launch": {"launcher": "inprocess"},
        },
        "out_dir": str(tmp_path),
    }
    with pytest.raises(RuntimeError, match=re.escape(f"torch {torch.__version__}")):
        launch.run_training(job, ran.append, gpus=1)
    assert not ran
