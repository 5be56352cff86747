"""Settings of the evaluation stage (the `evaluation:` block of the config; docs/evaluation.md).

Everything that changes a number is here and is recorded in every metrics file, so that two
metrics files can only be compared (or paired) when they were computed the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from polyalign.config import block_defaults
from polyalign.metrics.mauve_metrics import MauveSettings

# Defaults are the config schema's evaluation block (the one place they are written).
_EVAL = block_defaults("evaluation")
_BOOT, _DIV = _EVAL["bootstrap"], _EVAL["diversity"]

ZH_TOKENIZATIONS = ("char", "mixed", "whitespace")
HCR_BANDS = (("q10", "q90"), ("q25", "q75"))


@dataclass(frozen=True)
class BootstrapSettings:
    """The pooled two-level interval's settings (seed spread plus prompt bootstrap; `evaluation/pooled.py`)."""

    n_resamples: int = _BOOT["n_resamples"]  # every headline metric, the MAUVE-based ones included
    seed: int = _BOOT["seed"]
    alpha: float = _BOOT["alpha"]

    def __post_init__(self):
        if self.n_resamples < 1:
            raise ValueError(f"bootstrap n_resamples must be >= 1, got {self.n_resamples}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1), got {self.alpha}")


@dataclass(frozen=True)
class DiversitySettings:
    n_samples: int = _DIV["n_samples"]
    n_references: int = _DIV["n_references"]
    seed: int = _DIV["seed"]


@dataclass(frozen=True)
class EvaluationSettings:
    min_bucket_size: int = _EVAL["min_bucket_size"]  # test rows a bucket needs for BNG, C-MAUVE and TDM
    zh_tokenization: str = _EVAL["zh_tokenization"]  # QA-F1 / EM / ROUGE-L tokens of Chinese answers
    hcr_band: tuple[str, str] = tuple(_EVAL["hcr_band"])
    sample_index: int = _EVAL["sample_index"]  # which sample to score when a system drew several
    tdm_max_components: int = _EVAL["tdm_max_components"]
    diversity: DiversitySettings = field(default_factory=DiversitySettings)
    mauve: MauveSettings = field(default_factory=MauveSettings)
    bootstrap: BootstrapSettings = field(default_factory=BootstrapSettings)

    def __post_init__(self):
        if self.min_bucket_size < 2:
            raise ValueError("min_bucket_size must be >= 2")
        if self.zh_tokenization not in ZH_TOKENIZATIONS:
            raise ValueError(
                f"zh_tokenization must be one of {ZH_TOKENIZATIONS}, got {self.zh_tokenization!r}"
            )
        if tuple(self.hcr_band) not in HCR_BANDS:
            raise ValueError(f"hcr_band must be one of {HCR_BANDS}, got {self.hcr_band!r}")

    def mauve_for_buckets(self) -> MauveSettings:
        """C-MAUVE settings: bucket minimum = min_bucket_size (one rule for every bucket metric)."""
        return MauveSettings(**{**asdict(self.mauve), "min_size": self.min_bucket_size})

    def to_dict(self) -> dict:
        out = asdict(self)
        out["hcr_band"] = list(self.hcr_band)
        out["mauve"]["min_size"] = self.min_bucket_size
        return out


def _sub(cls, values: dict | None, where: str):
    values = dict(values or {})
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown} (known: {sorted(known)})")
    return cls(**values)


def settings_from_config(block: dict | None) -> EvaluationSettings:
    """EvaluationSettings from the config's `evaluation:` mapping (missing keys = defaults)."""
    block = dict(block or {})
    nested = {
        "diversity": _sub(DiversitySettings, block.pop("diversity", None), "evaluation.diversity"),
        "bootstrap": _sub(BootstrapSettings, block.pop("bootstrap", None), "evaluation.bootstrap"),
    }
    mauve = dict(block.pop("mauve", None) or {})
    if "min_size" in mauve:
        raise ValueError(
            "evaluation.mauve.min_size is not a setting: C-MAUVE uses evaluation.min_bucket_size"
        )
    nested["mauve"] = _sub(MauveSettings, mauve, "evaluation.mauve")
    if "hcr_band" in block:
        block["hcr_band"] = tuple(block["hcr_band"])
    known = {f.name for f in fields(EvaluationSettings)}
    unknown = sorted(set(block) - known)
    if unknown:
        raise ValueError(f"evaluation: unknown key(s) {unknown} (known: {sorted(known)})")
    return EvaluationSettings(**block, **nested)
