"""Whether a run's model jobs must have CUDA (a GPU run never falls back to the CPU silently).

The Snakefile decides once from the config and exports REQUIRE_CUDA_ENV to every job;
`polyalign.models.runtime` then fails at the first model load or training launch, naming the
torch build, when CUDA is missing. Kept free of torch so that the Snakefile can import it.
"""

from __future__ import annotations

REQUIRE_CUDA_ENV = "POLYALIGN_REQUIRE_CUDA"


def cuda_required(config: dict) -> bool:
    """A CUDA `model.device` (cuda, cuda:N), or the paper profile with `auto`: the paper's models
    do not train on a CPU in any useful time, so `auto` there means a GPU or an error. Only an
    explicit `cpu` runs a paper-profile config on the CPU (the CPU CI run of it does)."""
    device = str((config.get("model") or {}).get("device", "auto"))
    if device.startswith("cuda"):
        return True
    return config.get("profile") == "paper" and device == "auto"
