"""The one place where a model is loaded, with its device and precision chosen.

Inference (generation, LM features, embeddings, the critic encoder, reference log-probs,
detectors, judge) loads through `load_for_inference` / `load_model_for_inference` /
`load_encoder`, so a rule that was given a GPU uses it and a CPU run stays in float32.
`device="auto"` picks this process's CUDA device (LOCAL_RANK under `accelerate launch`) when
torch sees one, else the CPU.

Training loads through `load_for_training`: float32 master weights whatever the checkpoint's
dtype (bf16 runs are bf16 *autocast* over fp32 weights, so AdamW never rounds small updates
away), optional gradient checkpointing. tests/models/test_runtime.py fails if any other module
calls `from_pretrained` on a model.
"""

from __future__ import annotations

import os

import torch

from ..device.policy import REQUIRE_CUDA_ENV
from .pretrained import prepare_tokenizer, pretrained_model, save_model, set_generation_ids
from .settings import ModelSettings

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def torch_build() -> str:
    """The torch build this process runs, as an error message names it."""
    cuda = torch.version.cuda
    return f"torch {torch.__version__} ({f'CUDA {cuda} build' if cuda else 'CPU-only build: no CUDA'})"


def require_cuda(requested: str) -> None:
    """A CUDA device was configured: fail now, naming the torch build, when torch sees none
    (never a silent CPU run of a GPU-sized job)."""
    if not torch.cuda.is_available():
        hint = (
            "install a CUDA build of torch (docs/paper_scale.md, 'Software')"
            if not torch.version.cuda
            else "this build has CUDA but sees no GPU: check the node and CUDA_VISIBLE_DEVICES"
        )
        raise RuntimeError(
            f"device {requested!r} is configured but {torch_build()} sees no CUDA device; {hint}; "
            "to run on the CPU on purpose set the device to cpu"
            + (
                f" ({REQUIRE_CUDA_ENV} is set: the config's model.device is cuda, or auto in the paper profile)"
                if os.environ.get(REQUIRE_CUDA_ENV)
                else ""
            )
        )


def inference_device(requested: str | None = "auto") -> torch.device:
    """`auto`/None: this process's CUDA device when available (LOCAL_RANK, else 0), else the
    CPU. `cuda`: the same device, and an error naming the torch build when there is none.
    `cuda:N`, `cpu`: as named (a CUDA name without CUDA is an error, never a silent CPU run).
    `auto` and `cuda` first lease this job's GPU on a local run (polyalign.device.lease)."""
    if requested in (None, "auto", "cuda"):
        from ..device.lease import ensure_lease

        ensure_lease(1)  # before anything initialises CUDA
        if requested == "cuda" or os.environ.get(REQUIRE_CUDA_ENV):
            require_cuda(requested or "auto")
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)) % torch.cuda.device_count())
        return torch.device("cpu")
    device = torch.device(requested)
    if device.type == "cuda":
        require_cuda(requested)
    return device


def inference_dtype(name: str | None, device: torch.device) -> torch.dtype | str:
    """`auto`/None: the checkpoint's stored dtype on a GPU, float32 on the CPU (bf16 matmuls are
    slow there and change numbers); a named half dtype on the CPU is float32 too, for the same
    reason; otherwise the named dtype."""
    if name not in (None, "auto") and name not in _DTYPES:
        raise ValueError(f"unknown dtype {name!r} (known: auto, {', '.join(_DTYPES)})")
    if device.type != "cuda":
        return torch.float32
    return "auto" if name in (None, "auto") else _DTYPES[name]


def _auto_model_class(path: str, trust_remote_code: bool, kind: str):
    """causal_lm: AutoModelForCausalLM. encoder: the causal LM class when the checkpoint is one
    (its hidden states are pooled), else AutoModel (BERT/XLM-R-style encoders)."""
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

    if kind == "causal_lm":
        return AutoModelForCausalLM
    if kind != "encoder":
        raise ValueError(f"unknown model kind {kind!r} (causal_lm, encoder)")
    archs = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code).architectures or []
    return AutoModelForCausalLM if any(a.endswith("ForCausalLM") for a in archs) else AutoModel


def load_tokenizer(path: str | os.PathLike, trust_remote_code: bool = False):
    from transformers import AutoTokenizer

    return prepare_tokenizer(AutoTokenizer.from_pretrained(str(path), trust_remote_code=trust_remote_code))


def load_for_inference(
    path: str | os.PathLike,
    *,
    device: str | None = "auto",
    dtype: str | None = "auto",
    attn_implementation: str | None = "sdpa",
    trust_remote_code: bool = False,
    kind: str = "causal_lm",
):
    """(model, tokenizer) on the chosen device, eval mode, gradients off."""
    target = inference_device(device)
    cls = _auto_model_class(str(path), trust_remote_code, kind)
    kwargs = (
        {"attn_implementation": attn_implementation} if attn_implementation else {}
    )  # None: transformers' choice
    kwargs.update(dtype=inference_dtype(dtype, target), trust_remote_code=trust_remote_code)
    if kind == "causal_lm":
        model = pretrained_model(path, **kwargs)
    else:
        model = cls.from_pretrained(str(path), **kwargs)
    tokenizer = load_tokenizer(path, trust_remote_code)
    if kind == "causal_lm":
        set_generation_ids(model, tokenizer)
    model.to(target)
    model.eval()
    model.requires_grad_(False)
    return model, tokenizer


def load_model_for_inference(path: str | os.PathLike, cfg: ModelSettings, *, dtype: str | None = None):
    """A pipeline checkpoint for inference, with device/dtype/attention from the `model:` block
    (`dtype` overrides the block's, e.g. float32 for the reference pass that must match training)."""
    return load_for_inference(
        path,
        device=cfg.device,
        dtype=dtype or cfg.dtype,
        attn_implementation=cfg.attn_implementation,
        trust_remote_code=cfg.trust_remote_code,
    )


def load_encoder(
    path: str | os.PathLike,
    *,
    device: str | None = "auto",
    dtype: str | None = "auto",
    trust_remote_code: bool = False,
):
    """A frozen encoder (a causal LM or an AutoModel encoder) for pooled embeddings."""
    return load_for_inference(
        path,
        device=device,
        dtype=dtype,
        trust_remote_code=trust_remote_code,
        attn_implementation=None,
        kind="encoder",
    )


def load_for_training(path: str | os.PathLike, cfg: ModelSettings):
    """(model, tokenizer) for a training stage: float32 master weights on the CPU (accelerate
    moves them to the process's device), train mode, gradient checkpointing if configured."""
    model = pretrained_model(
        path,
        dtype=torch.float32,
        attn_implementation=cfg.attn_implementation,
        trust_remote_code=cfg.trust_remote_code,
    )
    tokenizer = load_tokenizer(path, cfg.trust_remote_code)
    set_generation_ids(model, tokenizer)
    if cfg.gradient_checkpointing:
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    model.train()
    return model, tokenizer


def copy_checkpoint(source: str | os.PathLike, out_dir: str | os.PathLike, cfg: ModelSettings):
    """A hub/local model saved into `out_dir` as stored (dtype kept), its tokenizer prepared and
    given the configured chat template; returns (model, tokenizer)."""
    from .chat import install_chat_template

    model = pretrained_model(source, dtype="auto", trust_remote_code=cfg.trust_remote_code)
    tokenizer = install_chat_template(load_tokenizer(source, cfg.trust_remote_code), cfg.chat_template)
    set_generation_ids(model, tokenizer)
    save_model(model, tokenizer, out_dir)
    return model, tokenizer
