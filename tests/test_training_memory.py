"""benchmarks/training_memory.py: the architectures it builds are the presets' checkpoints, and its
fake-tensor peaks count what they claim (weights, AdamW state, the labelled rows' logits)."""

import importlib.util
from pathlib import Path

import pytest
import torch
import yaml

from polyalign.estimate import load_profile
from polyalign.estimate.inputs import MODEL_SHAPES

REPO = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("training_memory", REPO / "benchmarks" / "training_memory.py")
training_memory = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(training_memory)
GIB = 2**30


@pytest.mark.parametrize("profile", ["paper.yaml", "pilot.yaml"])
def test_every_preset_of_the_gpu_profiles_has_its_architecture(profile):
    presets = yaml.safe_load((REPO / "config" / profile).read_text())["model_presets"]
    assert {p["source"] for p in presets.values()} <= set(training_memory.ARCHITECTURES)


@pytest.mark.parametrize("source", sorted(training_memory.ARCHITECTURES))
def test_architecture_matches_the_estimates_model_shape(source):
    """Two independent transcriptions of each config.json (the estimate's shapes and these
    architectures) agree on parameters, layers, KV heads and head dimension."""
    from transformers import AutoModelForCausalLM

    arch = training_memory.architecture(source)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(arch)
    shape = MODEL_SHAPES[source]
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(shape.params, rel=0.01)
    head_dim = getattr(arch, "head_dim", None) or arch.hidden_size // arch.num_attention_heads
    assert (arch.num_hidden_layers, arch.num_key_value_heads, head_dim) == (
        shape.layers,
        shape.kv_heads,
        shape.head_dim,
    )


def tiny_config(**preference):
    raw = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    raw["model"] = {**raw["model"], "max_length": 64, "gradient_checkpointing": True}
    raw["prompt"] = {**raw["prompt"], "max_prompt_tokens": 32}
    raw["generation"] = {**raw["generation"], "max_new_tokens": 15}
    raw["preference"] = {**raw["preference"], **preference}
    return load_profile(raw)


def tiny_llama(vocab=8192):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=vocab,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        tie_word_embeddings=True,
    )


def test_peaks_count_weights_adamw_state_and_the_labelled_rows_logits():
    config = tiny_config(ref_batch_size=8, micro_batch_size=2)
    result = training_memory.preset_memory(config, tiny_llama(), None)
    n = result["params"]
    # tied embedding; per layer q, o (64 x 64), k, v (64 x 2 KV heads x 16), the MLP's three
    # 64 x 128 matrices and two norms; the final norm
    assert n == 8192 * 64 + 2 * (2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 128 + 2 * 64) + 64 == 598_336
    for job, peak in result["jobs"].items():
        # float32 weights in every job, AdamW's two moments in the training steps only (to
        # 0.01 %: the tracker's per-storage accounting adds a few bytes)
        assert peak["Parameter"] == pytest.approx(4 * n / GIB, rel=1e-4), job
        assert peak["Optstate"] == pytest.approx(0 if job == "reference pass" else 8 * n / GIB, rel=1e-4), job
    # the preference rows: 2 x micro_batch_size pairs of 32 + 15 + 1 tokens, 16 labelled
    assert result["shapes"]["preference step"] == "4 x 48, 16 labelled"
    assert result["shapes"]["reference pass"] == "16 x 48, 16 labelled, no grad"
    # the reference pass holds at least the bf16 logits of its labelled rows and their float32
    # copy (16 rows x 16 positions x 8192 x (2 + 4) bytes) beside the weights
    reference = result["jobs"]["reference pass"]
    assert reference["Total"] >= (4 * n + 16 * 16 * 8192 * 6) / GIB


def test_the_logits_term_grows_with_the_labelled_positions_and_nothing_else():
    """Doubling the response (labelled positions) at the same sequence length adds the logits of
    the extra rows: the probe measures the label-positions projection, not [B, T, V] logits."""
    short = tiny_config(ref_batch_size=8)
    long = tiny_config(ref_batch_size=8)
    long["prompt"]["max_prompt_tokens"] = 16  # 48 tokens again, 32 of them labelled
    long["generation"]["max_new_tokens"] = 31
    vocab = 8192
    a = training_memory.preset_memory(short, tiny_llama(vocab), None)["jobs"]["reference pass"]["Total"]
    b = training_memory.preset_memory(long, tiny_llama(vocab), None)["jobs"]["reference pass"]["Total"]
    extra_rows = 16 * 16
    assert (b - a) * GIB >= extra_rows * vocab * 6  # bf16 + float32 copy of each extra row
    assert (b - a) * GIB < extra_rows * vocab * 16  # and not the whole sequence's logits


def test_per_gpu_memory_under_ddp_counts_every_gradient_in_the_buckets():
    """Under DDP the gradients live in its buckets from the first step on: all 4 bytes per
    parameter count, whatever share of the gradients was alive at the traced peak."""
    peak = {"Total": 50.0, "Gradient": 3.0}
    assert training_memory.on_gpu("sft step", peak, params=2**30) == 50.0 - 3.0 + 4.0
    assert training_memory.on_gpu("reference pass", peak, params=2**30) == 50.0
    config = tiny_config()
    smaller = training_memory.with_batch(config, "preference step", 1)
    assert smaller["preference"]["micro_batch_size"] == 1
    assert config["preference"]["micro_batch_size"] != 1  # the original is left as it was
    result = training_memory.preset_memory(
        training_memory.with_batch(config, "sft step", 1), tiny_llama(), None
    )
    assert result["shapes"]["sft step"] == "1 x 64, 63 labelled"
