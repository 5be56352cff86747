"""Trivial baselines: rows of Table 2 that no model writes (docs/evaluation.md, "Baselines and
the floor").

A baseline answers every test prompt with a human answer chosen without looking at the prompt,
or with one fixed reply per language. Its answers are written as a system's test generations
(the same fields), so features, embeddings, every metric and the pooled bootstrap treat it
exactly as a system.

- `human_train_bucket`: a human train answer of the test prompt's bucket, drawn at random.
- `human_test_other`: the human test answer of another test prompt of the same bucket, drawn at
  random (never the prompt's own).
- `constant`: one reply per language, chosen on the train split (`baseline_answers.constant_answers`).

The first two are prompt-blind human replies: the better of them on a metric is the floor a
system must clear for a comparison on that metric to be evidence. The constant answer is a
diagnostic of the metric (token F1 rewards a fixed reply made of frequent words), not the floor.
Donors are non-empty human answers; a bucket with no donor draws from the prompt's language
(counted in the report as `language_fallback`). The draws depend on the run seed, so each run
seed has its own baseline answers, except the constant one, which is the same for every seed.
"""

from __future__ import annotations

from dataclasses import dataclass

# The registry only (read by the workflow at DAG time and by the tables); the answers are
# written by polyalign.evaluation.baseline_answers.


@dataclass(frozen=True)
class Baseline:
    name: str
    label: str
    floor: bool  # a prompt-blind human reply: one of the two the floor is taken from
    per_seed: bool  # the answers are drawn with the run seed (else the same for every seed)


_BASELINES = (
    Baseline("human_train_bucket", "Human train answer, same bucket (random)", floor=True, per_seed=True),
    Baseline(
        "human_test_other", "Human answer to another test prompt, same bucket", floor=True, per_seed=True
    ),
    Baseline("constant", "Constant answer per language", floor=False, per_seed=False),
)
REGISTRY: dict[str, Baseline] = {b.name: b for b in _BASELINES}
BASELINES = tuple(REGISTRY)
FLOOR_BASELINES = tuple(b.name for b in _BASELINES if b.floor)
SEED_INVARIANT = tuple(b.name for b in _BASELINES if not b.per_seed)


def get(name: str) -> Baseline:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown baseline {name!r} (known: {list(REGISTRY)})") from None
