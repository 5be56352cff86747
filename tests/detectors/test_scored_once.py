"""One detector_scores job scores every response once: the human answers (validation and test)
are scored in the same single pass as the systems' answers, never again per system or per split,
and each record's prompt is rendered once although the human answer and every system's answer to
a test prompt share it. Counted on a tiny Llama-3 pair (tests/paper_models.py)."""

from collections import Counter

import pytest

import polyalign.detectors.scoring as scoring
import polyalign.detectors.zero_shot as zero_shot
from polyalign.detectors.scoring import score_items
from polyalign.detectors.settings import detector_config

from ..paper_models import build_tiny_checkpoint

SYSTEMS = ("sft", "dpo", "hdpo")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("scored_once")
    return [str(build_tiny_checkpoint("llama3", root / f"m{seed}", seed=seed)) for seed in (1, 2)]


def _job(n_val=3, n_test=4):
    """Items as workflow/scripts/score_detectors.py builds them: the human answers of both
    splits, then each system's answer to every test prompt (one of them empty)."""
    records, items = {}, []
    for split, n in (("val", n_val), ("test", n_test)):
        for i in range(n):
            rid = f"{split}{i}"
            records[rid] = {
                "id": rid,
                "language": "en",
                "question": f"What happened in the town in {1900 + i}?",
                "context": "The town library opened in 1921." if i % 2 else "",
                "history": [{"role": "user", "text": "Hello"}, {"role": "assistant", "text": "Hi there"}],
            }
            items.append(
                {
                    "system": "human",
                    "split": split,
                    "id": rid,
                    "sample": 0,
                    "text": f"A human answer {split} {i}.",
                }
            )
    for s, system in enumerate(SYSTEMS):
        for i in range(n_test):
            text = "" if (s, i) == (0, 0) else f"{system} says the answer is {i * (s + 2)}."
            items.append({"system": system, "split": "test", "id": f"test{i}", "sample": 0, "text": text})
    return items, records


def test_each_response_and_each_prompt_once_per_job(pair, monkeypatch):
    cfg = detector_config(
        {
            "detectors": {
                "fast_detectgpt": {"scoring_model": pair[0], "sampling_model": pair[1]},
                "binoculars": {"observer": pair[0], "performer": pair[1]},
                "condition_on_prompt": True,
                "batch_size": 3,
                "device": "cpu",
                "dtype": "float32",
            }
        }
    )
    config = {"prompt": {"max_history_turns": 4, "max_prompt_tokens": 96}}
    calls, rendered, forward_rows = [], Counter(), Counter()

    def scores_spy(models, pairs, examples, *args, **kwargs):
        calls.append(len(examples))
        return zero_shot_scores(models, pairs, examples, *args, **kwargs)

    def render_spy(record, *args, **kwargs):
        rendered[record["id"]] += 1
        return render_prompt(record, *args, **kwargs)

    def logits_spy(model, ids, mask, rows, cols):
        forward_rows[id(model)] += len(rows)
        return packed_logits(model, ids, mask, rows, cols)

    zero_shot_scores, render_prompt, packed_logits = (
        scoring.zero_shot_scores,
        scoring.render_prompt,
        zero_shot._packed_logits,
    )
    monkeypatch.setattr(scoring, "zero_shot_scores", scores_spy)
    monkeypatch.setattr(scoring, "render_prompt", render_spy)
    monkeypatch.setattr(zero_shot, "_packed_logits", logits_spy)

    items, records = _job()
    rows = score_items(items, records, cfg, config, {})

    scorable = [it for it in items if it["text"].strip()]
    human = [it for it in items if it["system"] == "human"]
    # one pass (both detectors on one pair), every non-empty response in it exactly once
    assert calls == [len(scorable)]
    # each record's prompt rendered once, though a test prompt serves 1 + len(SYSTEMS) answers
    assert rendered == Counter({rid: 1 for rid in records})
    # the models' forward passes computed each scored token once: the human answers' tokens
    # are not scored again for another system or split
    fdg = [r for r in rows if r["detector"] == "fast_detectgpt"]
    total = sum(r["n_tokens"] for r in fdg)
    assert len(forward_rows) == 2 and set(forward_rows.values()) == {total}
    human_rows = [r for r in fdg if r["system"] == "human"]
    assert len(human_rows) == len(human) and all(r["n_tokens"] > 0 for r in human_rows)
    assert len(rows) == 2 * len(items)
    assert [r for r in rows if r["system"] == "sft" and r["id"] == "test0"][0]["score"] is None
