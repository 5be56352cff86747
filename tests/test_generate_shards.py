"""Sharded generation: the parts of a one-process run dealt out to several processes give the
one-process rows, and the launched run writes the one-process file byte for byte."""

import pytest

from polyalign.config import fill_defaults
from polyalign.config.settings import settings_dict
from polyalign.generation.decoding import GenerationSettings
from polyalign.generation.generate import generate_records, part_plan, shard_parts
from polyalign.generation.parts import PartStore, merge_parts
from polyalign.generation.shards import run_generation
from polyalign.io import write_jsonl
from polyalign.models import save_model
from tests.models.micro import PROMPT, micro_model, micro_records, micro_tokenizer, one_thread  # noqa: F401 (fixture)

SAMPLE = GenerationSettings(
    max_new_tokens=6,
    do_sample=True,
    temperature=1.0,
    top_p=0.9,
    batch_size=4,
    seed=3,
    num_samples=2,
    cot_extra_tokens=5,
    length_check_quantile=None,
    part_rows=6,
    budget_quantile=None,
    budget_headroom=1.25,
    system_max_new_tokens={},
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def micro():
    tok = micro_tokenizer()
    return micro_model(tok), tok


def test_part_plan_and_strided_shards():
    prompts = [[1, 2], [1, 2, 3, 4, 5], [1, 2, 3], [9] * 5, [7]]
    # longest first, ties in input order (1 before 3), cut into runs of 2
    assert part_plan(prompts, 2) == [[1, 3], [2, 0], [4]]
    assert shard_parts(3, (0, 2)) == [0, 2]
    assert shard_parts(3, (1, 2)) == [1]
    assert shard_parts(3, (0, 1)) == [0, 1, 2]
    with pytest.raises(ValueError, match="outside"):
        shard_parts(1, (2, 2))


@pytest.mark.parametrize("world", [2, 3])
def test_shards_together_are_the_one_process_rows(micro, world):
    model, tok = micro
    records = micro_records()[::2]
    whole = generate_records(model, tok, records, "sft", SAMPLE, progress=False, **PROMPT)
    assert len(whole) == 2 * len(records) and all(r is not None for r in whole)
    assert len({r["output"] for r in whole}) > 10  # really sampled, not a constant output
    parts = [
        generate_records(model, tok, records, "sft", SAMPLE, progress=False, shard=(rank, world), **PROMPT)
        for rank in range(world)
    ]
    for k, row in enumerate(whole):
        owners = [p[k] for p in parts if p[k] is not None]
        assert owners == [row]  # exactly one rank made row k, and made it identically
    assert all(sum(r is not None for r in p) > 0 for p in parts)


def test_merge_parts_orders_rows_and_refuses_gaps_doubles_and_changed_parts(tmp_path):
    store = PartStore(tmp_path / "g.jsonl.parts", {"model": "m"})
    store.bind({"plan": 1})
    store.save(0, [{"index": 2, "row": {"v": "c"}}, {"index": 0, "row": {"v": "a"}}])
    store.save(1, [{"index": 1, "row": {"v": "b"}}])
    assert merge_parts(store.directory, 2, 3) == [{"v": "a"}, {"v": "b"}, {"v": "c"}]
    with pytest.raises(RuntimeError, match="missing or extra positions \\[3\\]"):
        merge_parts(store.directory, 2, 4)
    with pytest.raises(RuntimeError, match="part 2 of 3 has no manifest"):
        merge_parts(store.directory, 3, 3)
    store.save(1, [{"index": 0, "row": {"v": "b"}}])
    with pytest.raises(RuntimeError, match="row 0 is in two parts"):
        merge_parts(store.directory, 2, 3)
    store.save(1, [{"index": 1, "row": {"v": "b"}}])
    with open(store.directory / "part-00001.jsonl", "a") as f:
        f.write("\n")
    with pytest.raises(RuntimeError, match="does not match its manifest"):
        merge_parts(store.directory, 2, 3)
    other = PartStore(store.directory, {"model": "other"})
    other.bind({"plan": 1})
    other.save(1, [{"index": 1, "row": {"v": "b"}}])
    with pytest.raises(RuntimeError, match="parts of 2 different jobs"):
        merge_parts(store.directory, 2, 3)


@pytest.mark.slow
def test_two_launched_processes_write_the_one_process_file(tmp_path, micro):
    model, tok = micro
    save_model(model, tok, tmp_path / "m")
    records = micro_records()
    write_jsonl(tmp_path / "records.jsonl", records)
    config = fill_defaults(
        {
            "model": {"max_length": 128, "device": "cpu"},
            "prompt": {"max_prompt_tokens": 110, "max_history_turns": 2},
            "generation": {k: v for k, v in settings_dict(SAMPLE).items() if k != "num_samples"},
        }
    )
    job = {
        "model": str(tmp_path / "m"),
        "records": str(tmp_path / "records.jsonl"),
        "train": str(tmp_path / "records.jsonl"),
        "system": "hdpo",
        "config": config,
        "overrides": {"num_samples": 2},
        "profile_length": None,
    }
    one = run_generation({**job, "out": str(tmp_path / "one" / "g.jsonl")}, gpus=1)
    two = run_generation(
        {**job, "out": str(tmp_path / "two" / "g.jsonl")}, gpus=2, threads=2, log_path=tmp_path / "two.log"
    )
    assert (tmp_path / "two" / "g.jsonl").read_bytes() == (tmp_path / "one" / "g.jsonl").read_bytes()
    assert one["rows"] == two["rows"] == 2 * len(records) and two["processes"] == 2
    assert (one["eos_rate"], one["output_tokens"]) == (two["eos_rate"], two["output_tokens"])
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == ["g.jsonl"]  # parts and job removed
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == ["g.jsonl"]
    assert "rank1" in (tmp_path / "two.log").read_text()
