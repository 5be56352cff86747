"""Peak memory of the paper profile's model jobs at full size, measured on the CPU without a GPU.

Each preset's real architecture (the values of its checkpoint's config.json, below) is built
under torch's FakeTensorMode, where tensors carry shapes and dtypes but no data, so a 3B model
and its optimizer cost nothing to "allocate". torch's MemTracker records every tensor the steps
create and free and reports the peak. Measured per preset, at the profile's own settings:

- SFT / Bucket-SFT micro-step: float32 master weights, AdamW state already allocated (a step in
  the middle of training), bf16 autocast, activation checkpointing as `models.runtime` enables
  it, `train_common.micro_batch_size` sequences of `model.max_length` tokens, every position but
  the first labelled (the upper bound: a short prompt and an answer cut at max_length);
- DPO / HDPO micro-step: the same with `preference.micro_batch_size` pairs (chosen + rejected
  rows), max_prompt_tokens + max_new_tokens + eos tokens, the response positions labelled;
- the reference pass: `preference.ref_batch_size` pairs under no_grad, same lengths.

The log-probs take the project's path's shapes: the output projection runs on the labelled rows
only, then float32 and a cross-entropy per row (`train.logprobs`). The project selects those rows
with a boolean mask, which fake tensors cannot trace (the row count depends on the data), so
here the model's own `logits_to_keep` projects the same number of rows (the last R of each row).

Not counted, and to add on a GPU: the CUDA context and kernels (~0.5-1 GiB), the caching
allocator's fragmentation, DDP's gradient buckets (+4 bytes per parameter, printed), and any
difference between the CPU kernels traced here and the CUDA ones (attention's workspace, the
autocast op lists). So the figures are lower bounds of what a GPU will hold, not a verification:
no GPU has run the paper profile.

    python benchmarks/training_memory.py [--configfile config/paper.yaml] [--presets qwen2.5-3b ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from polyalign.estimate import load_profile  # noqa: E402
from polyalign.preference.config import preference_train_config  # noqa: E402
from polyalign.train.logprobs import position_ids_from_mask  # noqa: E402
from polyalign.train.sft import stage_train_config  # noqa: E402

GIB = 2**30
# config.json of each preset's checkpoint (architecture values only; the weights are never read)
ARCHITECTURES = {
    "Qwen/Qwen2.5-0.5B": dict(
        model_type="qwen2", vocab_size=151936, hidden_size=896, intermediate_size=4864,
        num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2, tie_word_embeddings=True,
    ),
    "Qwen/Qwen2.5-1.5B": dict(
        model_type="qwen2", vocab_size=151936, hidden_size=1536, intermediate_size=8960,
        num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2, tie_word_embeddings=True,
    ),
    "Qwen/Qwen2.5-3B": dict(
        model_type="qwen2", vocab_size=151936, hidden_size=2048, intermediate_size=11008,
        num_hidden_layers=36, num_attention_heads=16, num_key_value_heads=2, tie_word_embeddings=True,
    ),
    "meta-llama/Llama-3.2-3B": dict(
        model_type="llama", vocab_size=128256, hidden_size=3072, intermediate_size=8192,
        num_hidden_layers=28, num_attention_heads=24, num_key_value_heads=8, head_dim=128,
        tie_word_embeddings=True,
    ),
    "google/gemma-2-2b": dict(
        model_type="gemma2", vocab_size=256000, hidden_size=2304, intermediate_size=9216,
        num_hidden_layers=26, num_attention_heads=8, num_key_value_heads=4, head_dim=256,
        final_logit_softcapping=30.0, attn_logit_softcapping=50.0, query_pre_attn_scalar=256,
        sliding_window=4096, tie_word_embeddings=True,
    ),
}  # fmt: skip


def architecture(source: str):
    """The transformers config of a preset's checkpoint (by hub id)."""
    from transformers import AutoConfig

    if source not in ARCHITECTURES:
        raise SystemExit(f"no architecture for {source!r}: add its config.json values to ARCHITECTURES")
    values = dict(ARCHITECTURES[source])
    return AutoConfig.for_model(values.pop("model_type"), **values)


def fake_model(arch, attn_implementation: str | None, checkpointing: bool):
    """The model as `models.runtime.load_for_training` prepares it (float32, train mode,
    non-reentrant activation checkpointing), built inside the active FakeTensorMode."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_config(
        arch, dtype=torch.float32, attn_implementation=attn_implementation or "sdpa"
    )
    if checkpointing:
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    return model.train()


def label_nll(model, rows: int, length: int, labelled: int) -> torch.Tensor:
    """Summed NLL of the last `labelled` positions of `rows` sequences of `length` tokens, with
    the shapes of `train.logprobs.response_logps` (projection of the labelled rows only)."""
    vocab = model.config.vocab_size
    ids = torch.randint(0, vocab, (rows, length))
    mask = torch.ones(rows, length, dtype=torch.long)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(
            input_ids=ids, attention_mask=mask, position_ids=position_ids_from_mask(mask), use_cache=False,
            logits_to_keep=labelled + 1,
        ).logits[:, :-1]  # fmt: skip
    logits = logits.float().reshape(-1, vocab)
    targets = torch.randint(0, vocab, (rows * labelled,))
    return torch.nn.functional.cross_entropy(logits, targets, reduction="none").view(rows, labelled).sum(1)


def train_step(model, optimizer, rows: int, length: int, labelled: int):
    """One micro-step of `label_nll` (backward, AdamW step, gradients set to None)."""

    def step():
        label_nll(model, rows, length, labelled).mean().backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def measure(step, *tracked) -> dict:
    """{category: GiB} at the peak of `step()` (MemTracker's categories, plus Total), with the
    `tracked` modules and optimizers counted from the start."""
    from torch.distributed._tools.mem_tracker import MemTracker

    tracker = MemTracker()
    tracker.track_external(*tracked)
    with tracker:
        step()
    (peak,) = tracker.get_tracker_snapshot("peak").values()
    return {getattr(k, "value", k): v / GIB for k, v in peak.items()}


def preset_memory(config: dict, arch, attn_implementation: str | None) -> dict:
    """{"params", "jobs": {job: peak GiB breakdown}, "shapes", "batches": {job: its BATCH_KEYS
    value}} for the SFT step, the preference step and the reference pass."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    max_length = int(config["model"]["max_length"])
    pref_length = min(
        max_length,
        int(config["prompt"]["max_prompt_tokens"]) + int(config["generation"]["max_new_tokens"]) + 1,
    )
    response = pref_length - int(config["prompt"]["max_prompt_tokens"])
    sft_rows = stage_train_config(config, "sft").micro_batch_size
    pref_rows = 2 * preference_train_config(config, "hdpo").micro_batch_size
    ref_rows = 2 * int(config["preference"]["ref_batch_size"])
    checkpointing = bool(config["model"]["gradient_checkpointing"])
    out = {}
    with FakeTensorMode():
        model = fake_model(arch, attn_implementation, checkpointing)
        params = sum(p.numel() for p in model.parameters())
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6, foreach=False)
        train_step(model, optimizer, 1, 16, 4)()  # AdamW's state exists from the first step on
        sft = train_step(model, optimizer, sft_rows, max_length, max_length - 1)
        out["sft step"] = measure(sft, model, optimizer)
        preference = train_step(model, optimizer, pref_rows, pref_length, response)
        out["preference step"] = measure(preference, model, optimizer)
        del model, optimizer, sft, preference
        # the reference job loads the float32 weights alone (no gradients, no optimizer)
        reference_model = fake_model(arch, attn_implementation, checkpointing).eval()

        def reference():
            with torch.no_grad():
                label_nll(reference_model, ref_rows, pref_length, response)

        out["reference pass"] = measure(reference, reference_model)
    shapes = {
        "sft step": f"{sft_rows} x {max_length}, {max_length - 1} labelled",
        "preference step": f"{pref_rows} x {pref_length}, {response} labelled",
        "reference pass": f"{ref_rows} x {pref_length}, {response} labelled, no grad",
    }
    batches = {"sft step": sft_rows, "preference step": pref_rows // 2, "reference pass": ref_rows // 2}
    return {"params": params, "jobs": out, "shapes": shapes, "batches": batches}


# the key that sets each job's rows per forward pass (`preference.micro_batch_size` counts pairs)
BATCH_KEYS = {
    "sft step": ("sft", "micro_batch_size"),
    "preference step": ("preference", "micro_batch_size"),
    "reference pass": ("preference", "ref_batch_size"),
}


def on_gpu(job: str, peak: dict, params: int) -> float:
    """GiB a job holds per GPU under DDP: the training steps' gradients are views into DDP's
    all-reduce buckets (the trainer's gradient_as_bucket_view), which stay allocated from the
    first step on, so all 4 bytes per parameter count instead of the gradients alive at the peak."""
    if job == "reference pass":
        return peak["Total"]
    return peak["Total"] - peak.get("Gradient", 0.0) + 4 * params / GIB


def with_batch(config: dict, job: str, size: int) -> dict:
    block, key = BATCH_KEYS[job]
    return {**config, block: {**config[block], key: size}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configfile", type=Path, default=Path("config/paper.yaml"))
    ap.add_argument("--presets", nargs="*", help="preset names (default: every preset of the profile)")
    ap.add_argument("--gpu-gib", type=float, default=79.1, help="usable GPU memory (H100 80 GB: 79.1 GiB)")
    args = ap.parse_args(argv)
    raw = yaml.safe_load(args.configfile.read_text(encoding="utf-8"))
    names = args.presets or list(raw.get("model_presets") or {})
    print(
        f"{args.configfile}; fake-tensor peaks in GiB (lower bounds, see the docstring); GPU {args.gpu_gib} GiB"
    )
    print(f"{'preset':14} {'params':>7} {'job':16} {'shape':36} {'peak':>6} {'DDP':>6} {'fits':>5}")
    for name in names:
        config = load_profile({**raw, "model": {**raw.get("model", {}), "preset": name}})
        start = time.time()
        arch = architecture(config["model"]["source"])
        attn = config["model"].get("attn_implementation")
        result = preset_memory(config, arch, attn)
        for job, peak in result["jobs"].items():
            shape, size = result["shapes"][job], None
            while True:
                total = on_gpu(job, peak, result["params"])
                fits = total <= args.gpu_gib
                note = f" at {'.'.join(BATCH_KEYS[job])} {size}" if size else ""
                print(
                    f"{name:14} {result['params'] / 1e9:6.2f}B {job:16} {shape:36} "
                    f"{peak['Total']:6.1f} {total:6.1f} {'yes' if fits else 'NO':>5}{note}"
                )
                size = (size or result["batches"][job]) // 2
                if fits or size < 1:
                    break
                smaller = preset_memory(with_batch(config, job, size), arch, attn)
                peak, shape = smaller["jobs"][job], smaller["shapes"][job]
        print(f"{'':14} ({time.time() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
