"""Preference methods: the one definition of each way of training a model on preference pairs.

A method is one entry, after TRL's `loss_type`: its pair loss (the name of a function of
`polyalign.train.losses`, imported only when training), the model it starts from (whose
train-prompt samples are its rejected answers and whose weights are its reference), the config
block it reads on top of `preference:`, and its pairing group: the methods of one group train on
the same prompts (a prompt that gives one of them no pair is dropped for all of them).

A system trains with a method (`systems.System.method`); every list of methods, blocks and start
policies the workflow, the config checks and the seeds use is derived from this registry. No
torch here: the workflow and the config checks import it at DAG time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    name: str
    loss: str  # a function of polyalign.train.losses with the signature of hdpo_loss
    start_policy: str  # the model it starts from (sft, bucket_sft, ...)
    block: str  # the config block read on top of `preference:` (a block of the config schema)
    group: str  # methods of one group train on the same prompts


# DPO is HDPO's loss with its block's defaults λ = 0, γ_sft = 0, w = 1 (sigmoid DPO exactly).
_METHODS = (
    Method("dpo", loss="hdpo_loss", start_policy="sft", block="dpo", group="paper"),
    Method("hdpo", loss="hdpo_loss", start_policy="bucket_sft", block="hdpo", group="paper"),
)
REGISTRY: dict[str, Method] = {m.name: m for m in _METHODS}
METHODS = tuple(REGISTRY)
# The config blocks of the methods, in registry order.
BLOCKS = tuple(m.block for m in _METHODS)


def get(name: str, registry: dict[str, Method] = REGISTRY) -> Method:
    try:
        return registry[name]
    except KeyError:
        raise ValueError(f"unknown preference method {name!r} (known: {list(registry)})") from None


def group(name: str, registry: dict[str, Method] = REGISTRY) -> tuple[str, ...]:
    """The methods trained on the same prompts as `name` (itself included), in registry order."""
    own = get(name, registry).group
    return tuple(m.name for m in registry.values() if m.group == own)


def companions(
    name: str, registry: dict[str, Method] = REGISTRY, start_policy: str | None = None
) -> tuple[str, ...]:
    """The other methods of `name`'s group: their policies' samples decide which prompts it keeps.
    A system of `name` that starts from another `start_policy` (an ablation variant) counts `name`
    itself too, so that it keeps the prompts its parent trains on."""
    own = start_policy in (None, get(name, registry).start_policy)
    return tuple(m for m in group(name, registry) if not (own and m == name))


def starting_from(policy: str, registry: dict[str, Method] = REGISTRY) -> tuple[str, ...]:
    """The methods that start from model `policy` (and draw their rejected answers from it)."""
    return tuple(m.name for m in registry.values() if m.start_policy == policy)


def start_policies(registry: dict[str, Method] = REGISTRY) -> tuple[str, ...]:
    """The models whose train-prompt samples are drawn (each once), in registry order."""
    return tuple(dict.fromkeys(m.start_policy for m in registry.values()))


def check_registry(methods: Sequence[Method], models: Sequence[str]) -> None:
    """Entries name distinct methods and blocks, and start from a known model (`models`)."""
    names = [m.name for m in methods]
    blocks = [m.block for m in methods]
    for what, values in (("name", names), ("block", blocks)):
        dup = sorted({v for v in values if values.count(v) > 1})
        if dup:
            raise AssertionError(f"preference methods: duplicate {what} {dup}")
    for m in methods:
        if m.start_policy not in models:
            raise AssertionError(
                f"method {m.name}: start policy {m.start_policy!r} is no model {list(models)}"
            )
        if m.block == "preference":
            raise AssertionError(f"method {m.name}: `preference` is the shared block, not a method's")
