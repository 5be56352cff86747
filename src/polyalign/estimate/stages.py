"""GPU-seconds of every GPU stage of the workflow for a resolved config.

Each function mirrors one rule family (workflow/rules/*.smk) and counts the tokens it pushes
through a model; `polyalign.estimate.costs` turns tokens and decode steps into seconds. Stages
that run once (human features, human embeddings) are kept apart from those that run per seed.
CPU stages (corpus build, metrics, bootstrap, tables, the critic head, the trained detector) and
model loading are not counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import systems as system_registry
from ..detectors.settings import RUN_MODELS, detector_config, scoring_passes
from ..preference.config import policy_num_samples, preference_settings, preference_train_config
from ..train.sft import stage_train_config
from .costs import Costs
from .inputs import CorpusSplit, ModelShape, corpus_splits, model_shape

# Share of generated rows that run to their token budget (assumptions, docs/paper_scale.md): a base
# model given a chat prompt often keeps writing; a fine-tuned one mostly stops at end of turn.
CAP_RATE_BASE = 0.5
CAP_RATE_TUNED = 0.05
# Static batching: a batch steps until its longest row ends; without a capped row that row is
# taken to be this many times the mean human answer (a long tail), at most the budget.
LONGEST_ROW_FACTOR = 3.0
JUDGE_SCORE_STEPS = 8  # one cached step per judged dimension (polyalign.judge.score)
DECODE_LOOPS = ("static", "continuous")


@dataclass(frozen=True)
class Stage:
    name: str
    per_seed: bool
    work: str  # what it processes, for the table
    seconds: float
    origin: str  # measured | default: where its per-token costs came from


@dataclass(frozen=True)
class Rows:
    """Rows of one corpus and split that a stage reads, with their mean token lengths."""

    n: float
    prompt: float
    response: float


def cap_rate(system: str) -> float:
    return CAP_RATE_BASE if system_registry.model_of(system) == system_registry.BASE_MODEL else CAP_RATE_TUNED


def token_budget(config: dict, system: str) -> int:
    """New tokens a row of `system` may generate (generation.max_new_tokens; CoT adds
    cot_extra_tokens), the same for every language."""
    g = config["generation"]
    return int(g["max_new_tokens"]) + (int(g["cot_extra_tokens"]) if system == "cot" else 0)


def generated_tokens(human_answer: float, budget: int, q: float) -> float:
    """Mean generated length: a share q runs to the budget, the rest stops near the human length."""
    return q * budget + (1 - q) * min(human_answer, budget)


def _split(splits: list[CorpusSplit], split: str) -> list[CorpusSplit]:
    return [s for s in splits if s.split == split and s.records > 0]


def _totals(rows: list[Rows]) -> tuple[float, float, float]:
    """(rows, mean prompt tokens, mean response tokens)."""
    n = sum(r.n for r in rows)
    if n == 0:
        return 0.0, 0.0, 0.0
    return n, sum(r.n * r.prompt for r in rows) / n, sum(r.n * r.response for r in rows) / n


def decode_seconds(
    costs: Costs, shape: ModelShape, rows: list[Rows], budget: int, q: float, batch: int, loop: str
) -> tuple[float, float]:
    """(seconds, decode steps) of generating `rows` (response = mean generated length) in batches
    of `batch`, prefill included. static: every batch steps until its longest row ends (the budget
    as soon as one of its rows hits it); continuous: a finished row's slot takes the next prompt,
    so steps = generated tokens / batch, plus one budget to drain the last rows."""
    n, prompt, generated = _totals(rows)
    if n == 0:
        return 0.0, 0.0
    prefill = costs.forward_seconds(shape, n * prompt)
    if loop == "static":
        uncapped = min(budget, LONGEST_ROW_FACTOR * (generated - q * budget) / (1 - q))
        p_none = (1 - q) ** batch
        per_batch = budget * (1 - p_none) + uncapped * p_none
        steps = math.ceil(n / batch) * per_batch
        step = costs.decode_step_seconds(shape, batch, prompt + per_batch / 2)
    elif loop == "continuous":
        steps = math.ceil(n * generated / batch) + budget
        step = costs.decode_step_seconds(shape, batch, prompt + generated / 2)
    else:
        raise ValueError(f"decode loop {loop!r}: one of {DECODE_LOOPS}")
    return prefill + steps * step, steps


def _fmt(x: float) -> str:
    return f"{x:.2g}" if x < 1e3 else f"{x:.1e}".replace("e+0", "e").replace("e+", "e")


class Estimator:
    def __init__(self, config: dict, costs: Costs, loop: str):
        self.config, self.costs, self.loop = config, costs, loop
        self.splits = corpus_splits(config)
        self.model = model_shape(config["model"].get("family") or config["model"]["source"], "model.source")
        self.checkpointing = bool(config["model"]["gradient_checkpointing"])
        self.systems = system_registry.systems(config["oracle_row"])
        self.batch = int(config["generation"]["batch_size"])

    # --- rows ---
    def human(self, split: str, with_prompt: bool = True) -> list[Rows]:
        return [
            Rows(s.records, s.prompt_tokens if with_prompt else 0.0, s.answer_tokens)
            for s in _split(self.splits, split)
        ]

    def generated(self, system: str, split: str, samples: int = 1) -> list[Rows]:
        budget, q = token_budget(self.config, system), cap_rate(system)
        return [
            Rows(s.records * samples, s.prompt_tokens, generated_tokens(s.answer_tokens, budget, q))
            for s in _split(self.splits, split)
        ]

    @staticmethod
    def tokens(rows: list[Rows], limit: float | None = None, prompt: bool = True) -> float:
        """Tokens of `rows` (prompt + response, or the response alone), each response cut at `limit`."""
        cut = (lambda x: min(x, limit)) if limit else (lambda x: x)
        return sum(r.n * ((r.prompt if prompt else 0.0) + cut(r.response)) for r in rows)

    # --- stages ---
    def stages(self) -> list[Stage]:
        return [
            *self.training(),
            *self.generation(),
            *self.features(),
            *self.critic(),
            *self.reference_logps(),
            *self.embeddings(),
            *self.detectors(),
            *self.judges(),
        ]

    def _examples(self, tc, n: float) -> float:
        if tc.max_steps:
            per_step = tc.global_batch_size or tc.micro_batch_size * tc.grad_accum
            return tc.max_steps * per_step
        return tc.epochs * n

    def training(self) -> list[Stage]:
        out = []
        train = self.human("train")
        n, prompt, answer = _totals(train)
        for model in system_registry.SFT_MODELS:
            tc = stage_train_config(self.config, model)
            tokens = self._examples(tc, n) * (prompt + answer)
            secs = self.costs.train_seconds(self.model, tokens, self.checkpointing, self.costs.train_mfu)
            out.append(
                Stage(f"train {model}", True, f"{_fmt(tokens)} tokens", secs, self.costs.origin("train_mfu"))
            )
        for system in system_registry.PREFERENCE_SYSTEMS:
            tc = preference_train_config(self.config, system)
            pairs = self._pair_rows(system)
            tokens = self._examples(tc, n) * self._pair_tokens(pairs, self._shared(system)) / max(n, 1)
            secs = self.costs.train_seconds(self.model, tokens, self.checkpointing, self.costs.preference_mfu)
            out.append(
                Stage(
                    f"train {system}",
                    True,
                    f"{_fmt(tokens)} tokens",
                    secs,
                    self.costs.origin("preference_mfu"),
                )
            )
        return out

    def _pair_rows(self, system: str) -> list[tuple[CorpusSplit, float]]:
        """One pair per train prompt: (corpus split, rejected length = the start policy's sample)."""
        policy = system_registry.start_policy(system)
        budget, q = token_budget(self.config, policy), cap_rate(policy)
        return [(s, generated_tokens(s.answer_tokens, budget, q)) for s in _split(self.splits, "train")]

    def _shared(self, system: str) -> bool:
        return bool(preference_settings(self.config, system).shared_prompt)

    @staticmethod
    def _pair_tokens(pairs, shared_prompt: bool) -> float:
        """Tokens a pass over the pairs runs: the prompt once plus a bridge token (shared-prompt
        rows, train.logprobs) or once per side."""
        copies, bridge = (1, 1) if shared_prompt else (2, 0)
        return sum(
            s.records * (copies * s.prompt_tokens + bridge + s.answer_tokens + rejected)
            for s, rejected in pairs
        )

    def generation(self) -> list[Stage]:
        out = []
        origin = self.costs.origin("forward_mfu", "decode_overhead_per_layer_s")
        for policy in system_registry.SAMPLE_POLICIES:
            k = policy_num_samples(self.config, policy)
            rows = self.generated(policy, "train", k)
            secs, steps = decode_seconds(
                self.costs,
                self.model,
                rows,
                token_budget(self.config, policy),
                cap_rate(policy),
                self.batch,
                self.loop,
            )
            out.append(
                Stage(
                    f"sample train prompts: {policy}",
                    True,
                    f"{_fmt(_totals(rows)[0])} rows, {_fmt(steps)} steps",
                    secs,
                    origin,
                )
            )
        samples = int(self.config["generation"]["num_samples"])
        for system in self.systems:
            rows = self.generated(system, "test", samples)
            secs, steps = decode_seconds(
                self.costs,
                self.model,
                rows,
                token_budget(self.config, system),
                cap_rate(system),
                self.batch,
                self.loop,
            )
            out.append(
                Stage(
                    f"generate test: {system}",
                    True,
                    f"{_fmt(_totals(rows)[0])} rows, {_fmt(steps)} steps",
                    secs,
                    origin,
                )
            )
        return out

    def _forward(self, name: str, per_seed: bool, shape: ModelShape, tokens: float) -> Stage:
        return Stage(
            name,
            per_seed,
            f"{_fmt(tokens)} tokens",
            self.costs.forward_seconds(shape, tokens),
            self.costs.origin("forward_mfu"),
        )

    def features(self) -> list[Stage]:
        human = sum(self.tokens(self.human(split)) for split in ("train", "val", "test"))
        samples = sum(
            self.tokens(self.generated(p, "train", policy_num_samples(self.config, p)))
            for p in system_registry.SAMPLE_POLICIES
        )
        tests = sum(self.tokens(self.generated(s, "test")) for s in self.systems)
        return [
            self._forward("LM features: human train/val/test", False, self.model, human),
            self._forward("LM features: train samples + test outputs", True, self.model, samples + tests),
        ]

    def critic(self) -> list[Stage]:
        c = self.config["critic"]
        with_prompt = c["conditioning"] == "prompt"
        limit = int(c["max_length"])
        train = self.tokens(self.human("train"), limit, with_prompt) + sum(
            self.tokens(self.generated(p, "train", policy_num_samples(self.config, p)), limit, with_prompt)
            for p in system_registry.SAMPLE_POLICIES
        )
        scored = self.tokens(self.human("test"), limit, with_prompt) + sum(
            self.tokens(self.generated(s, "test"), limit, with_prompt) for s in self.systems
        )
        return [
            self._forward("critic: encode train rows + score test outputs", True, self.model, train + scored)
        ]

    def reference_logps(self) -> list[Stage]:
        tokens = sum(
            self._pair_tokens(self._pair_rows(s), self._shared(s)) for s in system_registry.PREFERENCE_SYSTEMS
        )
        return [self._forward("reference log-probs (DPO, HDPO pairs)", True, self.model, tokens)]

    def embeddings(self) -> list[Stage]:
        e = self.config["embeddings"]
        shape = model_shape(e["encoder"], "embeddings.encoder") if e["encoder"] else self.model
        limit = int(e["max_length"])
        human = self.tokens(self.human("test"), limit, prompt=False)
        systems = sum(self.tokens(self.generated(s, "test"), limit, prompt=False) for s in self.systems)
        return [
            self._forward("MAUVE embeddings: human test", False, shape, human),
            self._forward("MAUVE embeddings: test outputs", True, shape, systems),
        ]

    def detectors(self) -> list[Stage]:
        cfg = detector_config(self.config)
        with_prompt = bool(cfg["condition_on_prompt"])
        out = []
        for names, limit, dets in scoring_passes(cfg):
            texts = self.human("val") + self.human("test")
            for s in self.systems:
                texts += self.generated(s, "test")
            tokens = self.tokens(texts, limit, with_prompt)
            secs = sum(
                self.costs.forward_seconds(
                    self.model if n in RUN_MODELS else model_shape(n, f"detectors ({'/'.join(dets)})"), tokens
                )
                for n in names
            )
            out.append(
                Stage(
                    f"detectors: {' + '.join(dets)} ({len(names)} models)",
                    True,
                    f"{_fmt(tokens)} tokens per model",
                    secs,
                    self.costs.origin("forward_mfu"),
                )
            )
        return out

    def judges(self) -> list[Stage]:
        from ..judge.prompt import judge_user_message

        j = self.config["judge"]
        empty = {
            f: ""
            for f in ("language", "track", "family", "situation", "length_bin", "question", "human_answer")
        }
        instructions = len(judge_user_message(empty, "")) / 4 + 20  # ~4 characters per token, + chat template
        batch = int(j["batch_size"])
        out = []
        for name, model in j["models"].items():
            shape = model_shape(model["path"], f"judge.models.{name}.path")
            secs, rows = 0.0, 0.0
            for system in self.systems:
                gen = self.generated(system, "test")
                n, _, _ = _totals(gen)
                tokens = sum(
                    r.n * (instructions + r.prompt + s.answer_tokens + r.response)
                    for r, s in zip(gen, _split(self.splits, "test"), strict=True)
                )
                context = tokens / max(n, 1)
                steps = math.ceil(n / batch) * JUDGE_SCORE_STEPS
                secs += self.costs.forward_seconds(shape, tokens) + steps * self.costs.decode_step_seconds(
                    shape, batch, context
                )
                rows += n
            out.append(
                Stage(
                    f"judge: {name}",
                    True,
                    f"{_fmt(rows)} rows",
                    secs,
                    self.costs.origin("forward_mfu", "decode_overhead_per_layer_s"),
                )
            )
        return out
