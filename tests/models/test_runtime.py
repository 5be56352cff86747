"""The one loader: device/dtype choice, per-family loading for inference and training (fp32
master weights), and a scan that fails when a module loads a model around it."""

import re

import pytest
import torch

from polyalign.config import fill_defaults
from polyalign.models import ModelSettings, model_settings
from polyalign.models.runtime import (
    copy_checkpoint,
    inference_device,
    inference_dtype,
    load_encoder,
    load_for_training,
    load_model_for_inference,
)

from ..conftest import REPO
from ..paper_models import FAMILIES, build_tiny_checkpoint

ATTN = {"qwen2": "sdpa", "llama3": "sdpa", "gemma2": "eager"}  # as in config/paper.yaml's presets


def settings(**block) -> ModelSettings:
    """ModelSettings of a `model:` block with the schema's defaults filled in."""
    return model_settings(fill_defaults({"model": block})["model"])


@pytest.fixture(scope="module", params=FAMILIES)
def checkpoint(request, tmp_path_factory):
    return request.param, build_tiny_checkpoint(request.param, tmp_path_factory.mktemp(request.param))


def test_device_and_dtype_rules():
    assert inference_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        assert inference_device("auto") == torch.device("cpu")
        with pytest.raises(RuntimeError, match="no CUDA"):
            inference_device("cuda")
    cpu, gpu = torch.device("cpu"), torch.device("cuda", 0)
    assert inference_dtype("bfloat16", cpu) == torch.float32  # bf16 matmuls are slow on CPUs
    assert inference_dtype("auto", gpu) == "auto" and inference_dtype("bfloat16", gpu) == torch.bfloat16
    with pytest.raises(ValueError, match="unknown dtype"):
        inference_dtype("fp8", cpu)


def test_inference_load_per_family(checkpoint):
    family, path = checkpoint
    model, tok = load_model_for_inference(
        path, settings(source=str(path), dtype="bfloat16", device="cpu", attn_implementation=ATTN[family])
    )
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert model.generation_config.pad_token_id == tok.pad_token_id is not None
    assert tok.padding_side == "left"


def test_training_load_holds_fp32_master_weights_and_checkpointing(checkpoint, tmp_path):
    family, path = checkpoint
    bf16 = tmp_path / "bf16"
    model, tok = load_model_for_inference(path, settings(device="cpu", attn_implementation=ATTN[family]))
    model.to(torch.bfloat16).save_pretrained(bf16)
    tok.save_pretrained(bf16)
    trained, _ = load_for_training(
        bf16, settings(gradient_checkpointing=True, attn_implementation=ATTN[family])
    )
    assert {p.dtype for p in trained.parameters()} == {torch.float32}  # a bf16 checkpoint is upcast
    assert trained.training and trained.is_activation_checkpointing


def test_copy_checkpoint_keeps_the_stored_dtype(checkpoint, tmp_path):
    family, path = checkpoint
    model, tok = load_model_for_inference(path, settings(device="cpu", attn_implementation=ATTN[family]))
    model.to(torch.bfloat16).save_pretrained(tmp_path / "src")
    tok.save_pretrained(tmp_path / "src")
    copied, _ = copy_checkpoint(tmp_path / "src", tmp_path / "out", settings(chat_template="own"))
    assert next(copied.parameters()).dtype == torch.bfloat16
    assert (tmp_path / "out" / "model.safetensors").is_file()


def test_encoder_loader_takes_causal_lms_and_plain_encoders(checkpoint, tmp_path):
    family, path = checkpoint
    model, _ = load_encoder(path, device="cpu")
    assert type(model).__name__.endswith("ForCausalLM")
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]))
    BertModel(
        BertConfig(
            vocab_size=7, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
        )
    ).save_pretrained(tmp_path / "enc")
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(tmp_path / "enc")
    enc, _ = load_encoder(tmp_path / "enc", device="cpu")
    assert type(enc).__name__ == "BertModel"


# Model loading (`*.from_pretrained` of a model class, or `AutoModel*`) may only happen in the
# runtime helper (and its pretrained_model, the one call that names a damaged directory).
# Tokenizers, configs and generation configs are not models.
ALLOWED = {
    "src/polyalign/models/runtime.py",
    "src/polyalign/models/pretrained.py",
}
_LOAD = re.compile(
    r"\b(\w*(?:Model|ForCausalLM|ForSequenceClassification|ForMaskedLM)\w*)\.from_pretrained\("
)


def test_no_loader_bypasses_the_runtime_helper():
    offenders = []
    for root in ("src", "workflow/scripts"):
        for path in sorted((REPO / root).rglob("*.py")):
            rel = str(path.relative_to(REPO))
            if rel in ALLOWED:
                continue
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _LOAD.search(line) or re.search(r"\bcls\.from_pretrained\(|\bpipeline\(", line):
                    offenders.append(f"{rel}:{i}: {line.strip()}")
    assert not offenders, "load models through polyalign.models.runtime:\n" + "\n".join(offenders)


def test_the_scan_catches_a_bypass():
    assert _LOAD.search("model = AutoModelForCausalLM.from_pretrained(path)")
    assert _LOAD.search("m = Qwen2ForCausalLM.from_pretrained(p)")
    assert not _LOAD.search("tok = AutoTokenizer.from_pretrained(path)")
    assert not _LOAD.search("cfg = AutoConfig.from_pretrained(path)")
