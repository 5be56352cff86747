"""The systems compared in the benchmark: the single definition the workflow, the library, the
tables and the tests read.

A system is a way of answering a test prompt: a model (a directory under results/models/ or,
per seed, results/seed{seed}/models/), the prompt style it was trained with, for profile
prompts where the length bin comes from, and for a preference system its method
(polyalign.methods: loss, start policy, config block). docs/extending.md: adding one. The paper's six systems are, in the order of its
tables: BaseLM, CoT (BaseLM with a reasoning prompt), SFT, Bucket-SFT, DPO (from SFT) and HDPO
(from Bucket-SFT). The optional oracle row `bucket_sft_gold` (config `oracle_row`) is
Bucket-SFT prompted with each test record's gold length bin; it leaks the answer length and is
labelled as such.

The BaseLM stands in for a fixed pretrained model: it is built once, from the data seed. Every
other model is trained once per run seed (config `seeds`).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import methods

PROMPT_STYLES = ("plain", "profile", "cot")
BASE_MODEL = "base"


@dataclass(frozen=True)
class System:
    name: str
    model: str  # the model directory it generates with (results/[seed{seed}/]models/{model})
    prompt_style: str  # plain | profile | cot (polyalign.prompts)
    label: str  # display name in tables and figures
    published: str | None  # the paper's name for the row, None when the paper has no such row
    method: str | None = None  # preference systems: their method (polyalign.methods)
    gold_length: bool = False  # profile prompts carry the record's own length bin (oracle)
    oracle: bool = False  # optional row, added by config `oracle_row`
    start_override: str | None = None  # an ablation variant's start policy, when not its method's

    @property
    def trained_per_seed(self) -> bool:
        """Whether its model is trained once per run seed (everything but the BaseLM)."""
        return self.model != BASE_MODEL

    @property
    def is_preference(self) -> bool:
        return self.method is not None

    @property
    def start_policy(self) -> str | None:
        """The model a preference system starts from (its method's unless overridden), None for
        the others."""
        if not self.method:
            return None
        return self.start_override or methods.get(self.method).start_policy

    @property
    def profile_length(self) -> str | None:
        """The profile length mode this system forces (`gold` for the oracle row), or None to
        use the configured `profile_length`."""
        return "gold" if self.gold_length else None


_SYSTEMS = (
    System("base", BASE_MODEL, "plain", "BaseLM", "BaseLM"),
    System("cot", BASE_MODEL, "cot", "CoT", "CoT"),
    System("sft", "sft", "plain", "SFT", "Full-SFT"),
    System("bucket_sft", "bucket_sft", "profile", "Bucket-SFT", "Bucket-SFT"),
    System("dpo", "dpo", "plain", "DPO", "DPO", method="dpo"),
    System("hdpo", "hdpo", "profile", "HDPO", "HDPO", method="hdpo"),
    System(
        "bucket_sft_gold",
        "bucket_sft",
        "profile",
        "Bucket-SFT (oracle: gold length)",
        None,
        gold_length=True,
        oracle=True,
    ),
)
REGISTRY: dict[str, System] = {s.name: s for s in _SYSTEMS}

PAPER_SYSTEMS = tuple(s.name for s in _SYSTEMS if not s.oracle)
ORACLE_SYSTEMS = tuple(s.name for s in _SYSTEMS if s.oracle)
PREFERENCE_SYSTEMS = tuple(s.name for s in _SYSTEMS if s.is_preference)
# Every model directory a system generates with, in registry order (the BaseLM first).
MODELS = tuple(dict.fromkeys(s.model for s in _SYSTEMS))
# Models trained once per run seed (curves in DVC): every model but the BaseLM.
TRAINED_MODELS = tuple(m for m in MODELS if m != BASE_MODEL)
# Models trained from the BaseLM by supervised fine-tuning (train_sft.py): a system's own model
# that is neither the BaseLM nor a preference model (those are trained from their start policy).
SFT_MODELS = tuple(
    s.name for s in _SYSTEMS if s.model == s.name and s.model != BASE_MODEL and not s.is_preference
)
# Models whose train-prompt samples feed the critic and the preference pairs.
SAMPLE_POLICIES = tuple(dict.fromkeys(s.start_policy for s in _SYSTEMS if s.is_preference))


def get(name: str) -> System:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown system {name!r} (known: {list(REGISTRY)})") from None


def systems(oracle_row: bool = False) -> list[str]:
    """The systems of a run in table order: the paper's six, then the oracle row if asked."""
    return list(PAPER_SYSTEMS) + (list(ORACLE_SYSTEMS) if oracle_row else [])


def model_of(name: str) -> str:
    return get(name).model


def prompt_style(name: str) -> str:
    """The prompt style of a system, or of a model name used as a policy (sft, bucket_sft)."""
    return get(name).prompt_style


def start_policy(name: str) -> str:
    system = get(name)
    if system.start_policy is None:
        raise ValueError(f"{name!r} is not a preference system (those are {list(PREFERENCE_SYSTEMS)})")
    return system.start_policy


def method_of(name: str) -> str:
    """The preference method of system `name`."""
    system = get(name)
    if system.method is None:
        raise ValueError(f"{name!r} is not a preference system (those are {list(PREFERENCE_SYSTEMS)})")
    return system.method


def label(name: str) -> str:
    """Display name of a system or a trivial baseline (polyalign.baselines); any other name is
    shown as it is."""
    from . import baselines

    if name in REGISTRY:
        return REGISTRY[name].label
    return baselines.REGISTRY[name].label if name in baselines.REGISTRY else name


def published_label(name: str) -> str:
    """The paper's name of a system (its label when the paper has no such row)."""
    system = REGISTRY.get(name)
    if system is None:
        return name
    return system.published or system.label


def table_order(present) -> list[str]:
    """`present` system names in registry (table) order, unknown names after them, in their order."""
    present = list(present)
    return [s for s in REGISTRY if s in present] + [s for s in present if s not in REGISTRY]


def _check_registry() -> None:
    methods.check_registry(tuple(methods.REGISTRY.values()), MODELS)
    for s in _SYSTEMS:
        if s.prompt_style not in PROMPT_STYLES:
            raise AssertionError(f"{s.name}: unknown prompt style {s.prompt_style!r}")
        if s.gold_length and s.prompt_style != "profile":
            raise AssertionError(f"{s.name}: a gold length bin needs profile prompts")
        if s.model != BASE_MODEL and s.model not in REGISTRY:
            raise AssertionError(f"{s.name}: model {s.model!r} is no system's own model")
        if s.method is not None and s.method not in methods.REGISTRY:
            raise AssertionError(f"{s.name}: unknown preference method {s.method!r}")
        if s.is_preference and s.model != s.name:
            raise AssertionError(f"{s.name}: a preference system trains its own model (model {s.name!r})")
        if s.start_policy is not None and REGISTRY[s.start_policy].prompt_style != s.prompt_style:
            raise AssertionError(f"{s.name}: prompt style differs from its start policy's")


_check_registry()
