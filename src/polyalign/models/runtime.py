"""The one place where an inference path chooses its device and precision and loads a model.

Generation, LM features, embeddings, the critic encoder, reference log-probs, detectors and the
judge all load through `load_for_inference`, so a rule that was given a GPU uses it and a CPU
run stays in float32. `device="auto"` picks CUDA when torch sees it, else the CPU.
"""
from __future__ import annotations

import os

import torch

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def inference_device(requested: str | None = "auto") -> torch.device:
    """`auto`/None: the first CUDA device when available, else the CPU; otherwise as named."""
    if requested in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {requested!r} requested but torch sees no CUDA device")
    return device


def inference_dtype(name: str | None, device: torch.device) -> torch.dtype | str:
    """`auto`/None: the checkpoint's stored dtype on a GPU, float32 on the CPU (bf16 matmuls are
    slow there and change numbers); otherwise the named dtype."""
    if name in (None, "auto"):
        return "auto" if device.type == "cuda" else torch.float32
    if name not in _DTYPES:
        raise ValueError(f"unknown dtype {name!r} (known: auto, {', '.join(_DTYPES)})")
    return _DTYPES[name]


def load_for_inference(path: str | os.PathLike, *, device: str | None = "auto", dtype: str | None = "auto",
                       attn_implementation: str = "sdpa", trust_remote_code: bool = False):
    """(model, tokenizer) on the chosen device, eval mode, gradients off."""
    from transformers import AutoTokenizer

    from .factory import prepare_tokenizer, pretrained_model

    target = inference_device(device)
    model = pretrained_model(
        path,
        dtype=inference_dtype(dtype, target),
        attn_implementation=attn_implementation,
        trust_remote_code=trust_remote_code,
    )
    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(str(path), trust_remote_code=trust_remote_code))
    model.to(target)
    model.eval()
    model.requires_grad_(False)
    return model, tokenizer
