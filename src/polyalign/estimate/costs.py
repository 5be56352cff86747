"""Per-token costs of one GPU and the time formulas the estimate uses.

Training and forward passes are compute-bound: seconds = FLOPs / (MFU x peak), FLOPs = 6 N per
trained token (8 N with gradient checkpointing, which recomputes the forward) and 2 N per token of
a forward pass. A decode step is bound by its fixed cost, not by FLOPs: Hugging Face decoding
launches every layer's kernels from Python (a per-layer overhead), reads all weights and the
batch's KV cache from memory, and computes 2 N FLOPs per row. `benchmarks/gpu_check.py` measures
the MFUs and the per-layer decode overhead on a GPU and writes them under "costs" in its JSON;
until it has run, the documented defaults below are used and the estimate says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .inputs import ModelShape

GC_RECOMPUTE = 8 / 6  # gradient checkpointing: one more forward per trained token


@dataclass(frozen=True)
class Costs:
    peak_tflops: float = 989.0  # H100/H200 SXM, bf16 dense
    train_mfu: float = 0.35  # SFT: FLOPs counted as 6N (8N with checkpointing) per token
    preference_mfu: float = 0.30  # DPO/HDPO policy passes (masked shared-prompt rows, short responses)
    forward_mfu: float = 0.40  # forward-only passes (features, reference log-probs, judges, ...)
    hbm_bytes_per_s: float = 3.35e12  # H100 SXM HBM3
    decode_overhead_per_layer_s: float = 6.0e-4  # HF eager decoding: kernel launches per layer
    source: str = "documented defaults (benchmarks/gpu_check.py has never run on a GPU)"
    measured: tuple[str, ...] = field(default=())

    def origin(self, *names: str) -> str:
        """'measured' when gpu_check measured every one of `names`, else 'default'."""
        return "measured" if all(n in self.measured for n in names) else "default"

    def train_seconds(self, shape: ModelShape, tokens: float, checkpointing: bool, mfu: float) -> float:
        flops = 6 * shape.params * tokens * (GC_RECOMPUTE if checkpointing else 1.0)
        return flops / (mfu * self.peak_tflops * 1e12)

    def forward_seconds(self, shape: ModelShape, tokens: float) -> float:
        return 2 * shape.params * tokens / (self.forward_mfu * self.peak_tflops * 1e12)

    def decode_step_seconds(self, shape: ModelShape, batch: int, context: float) -> float:
        """One decode step of `batch` rows whose KV caches hold `context` tokens each."""
        fixed = self.decode_overhead_per_layer_s * shape.layers
        memory = (2 * shape.params + batch * context * shape.kv_bytes_per_token()) / self.hbm_bytes_per_s
        compute = 2 * shape.params * batch / (self.forward_mfu * self.peak_tflops * 1e12)
        return fixed + memory + compute

    def decode_overhead_from(
        self, shape: ModelShape, batch: int, context: float, step_seconds: float
    ) -> float:
        """The per-layer overhead that makes decode_step_seconds equal a measured step time."""
        rest = (
            self.decode_step_seconds(shape, batch, context) - self.decode_overhead_per_layer_s * shape.layers
        )
        return max(step_seconds - rest, 0.0) / shape.layers


COST_KEYS = ("peak_tflops", "train_mfu", "preference_mfu", "forward_mfu", "decode_overhead_per_layer_s")


def load_costs(path: Path | None) -> Costs:
    """Costs from a gpu_check JSON ("costs" block), or the documented defaults when `path` is None
    or missing. A JSON written with --tiny (CPU) is refused: its numbers are not a GPU's."""
    if path is None or not Path(path).exists():
        return Costs()
    data = json.loads(Path(path).read_text())
    if data.get("tiny"):
        raise ValueError(f"{path}: written by gpu_check --tiny on the CPU; its costs are not a GPU's")
    measured = data.get("costs")
    if not isinstance(measured, dict):
        raise ValueError(f"{path}: no 'costs' block (write it with benchmarks/gpu_check.py --out)")
    unknown = set(measured) - set(COST_KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown cost keys {sorted(unknown)} (known: {list(COST_KEYS)})")
    known = {f.name for f in fields(Costs)}
    assert set(COST_KEYS) <= known
    return replace(
        Costs(),
        **{k: float(v) for k, v in measured.items()},
        source=f"measured by benchmarks/gpu_check.py on {data.get('device', '?')} ({path})",
        measured=tuple(sorted(measured)),
    )
