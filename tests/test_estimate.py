"""polyalign.estimate: the arithmetic on a tiny config computed by hand, the decode loops, the
costs' source, and that docs/paper_scale.md shows the estimator's own output."""

import json

import pytest
import yaml

from polyalign.estimate import Costs, Estimator, Stage, inputs, load_costs, load_profile, totals
from polyalign.estimate.__main__ import main
from polyalign.estimate.inputs import ModelShape, subsampled
from polyalign.estimate.stages import Rows, decode_seconds

from .conftest import REPO

# 1 TFLOP/s at MFU 1, free memory traffic, 10 ms per layer and step: a forward token costs
# 2 * 5e8 / 1e12 = 1 ms, a decode step of 10 rows 10 x 0.01 + 10 x 1 ms = 0.11 s.
COSTS = Costs(
    peak_tflops=1.0,
    train_mfu=1.0,
    preference_mfu=1.0,
    forward_mfu=1.0,
    hbm_bytes_per_s=1e30,
    decode_overhead_per_layer_s=0.01,
)
SHAPE = ModelShape(5e8, 10, 1, 1)


def test_static_loop_steps_every_batch_to_its_longest_row():
    rows = [Rows(100, 10, 0.1 * 100 + 0.9 * 20)]  # 28 generated on average, 10 % hit the 100 budget
    seconds, steps = decode_seconds(COSTS, SHAPE, rows, budget=100, q=0.1, batch=10, loop="static")
    # a batch without a capped row (p = 0.9^10) runs to 3 x the uncapped mean 20 = 60 steps
    p_none = 0.9**10
    per_batch = 100 * (1 - p_none) + 60 * p_none
    assert steps == pytest.approx(10 * per_batch)
    assert seconds == pytest.approx(100 * 10 * 1e-3 + 10 * per_batch * 0.11)


def test_continuous_loop_costs_generated_tokens_over_the_batch():
    rows = [Rows(100, 10, 28.0)]
    seconds, steps = decode_seconds(COSTS, SHAPE, rows, budget=100, q=0.1, batch=10, loop="continuous")
    assert steps == 100 * 28 / 10 + 100  # + one budget to drain the last rows
    assert seconds == pytest.approx(1.0 + 380 * 0.11)


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setattr(inputs, "CORPUS_SIZES", {"dolly": (1000, 100, 200)})
    monkeypatch.setattr(inputs, "CORPUS_TOKENS", {"dolly": (50, 30)})
    monkeypatch.setattr(inputs, "MODEL_SHAPES", {"tiny/model": SHAPE})
    return load_profile(
        {
            "corpora": {"dolly": {}},
            "seeds": [0, 1],
            "model": {"source": "tiny/model", "gradient_checkpointing": True},
            "prompt": {"max_prompt_tokens": 40},
            "generation": {"max_new_tokens": 100, "cot_extra_tokens": 0, "batch_size": 10},
        }
    )


def test_stages_of_a_tiny_config_by_hand(tiny):
    stages = {s.name: s for s in Estimator(tiny, COSTS, "static").stages()}
    # SFT: 1000 rows x (40 prompt tokens after the cut + 30 answer) x 8 N (checkpointing) / 1e12
    assert stages["train sft"].seconds == pytest.approx(8 * 5e8 * 1000 * 70 / 1e12)  # 280 s
    # samples: 1000 rows, 33.5 tokens generated on average (5 % at the budget), prefill 40 s
    p_none = 0.95**10
    per_batch = 100 * (1 - p_none) + 90 * p_none  # 3 x 30 uncapped
    assert stages["sample train prompts: sft"].seconds == pytest.approx(40 + 100 * per_batch * 0.11)
    continuous = {s.name: s for s in Estimator(tiny, COSTS, "continuous").stages()}
    assert continuous["sample train prompts: sft"].seconds == pytest.approx(40 + (3350 + 100) * 0.11)
    # the human LM features run once: (1000 + 100 + 200) rows x 70 tokens x 1 ms
    assert stages["LM features: human train/val/test"].per_seed is False
    assert stages["LM features: human train/val/test"].seconds == pytest.approx(1300 * 70 * 1e-3)
    assert not any(name.startswith("judge") for name in stages)  # no judge configured
    assert all(s.origin == "default" for s in stages.values())


def test_pair_passes_count_the_prompt_once_in_shared_rows(tiny):
    # DPO: 1000 pairs x (40 prompt + 1 bridge + 30 chosen + 33.5 rejected (5 % of the SFT
    # samples at the 100 budget, the rest 30)) x 8 N / 1e12; one row per side: 2 x 40 prompt
    def pair_seconds(shared):
        config = {**tiny, "preference": {**tiny["preference"], "shared_prompt": shared}}
        stages = {s.name: s for s in Estimator(config, COSTS, "static").stages()}
        return stages["train dpo"].seconds, stages["reference log-probs (DPO, HDPO pairs)"].seconds

    rejected = 0.05 * 100 + 0.95 * 30
    (train, ref), (train_2, ref_2) = pair_seconds(True), pair_seconds(False)
    assert train == pytest.approx(8 * 5e8 * 1000 * (41 + 30 + rejected) / 1e12)
    assert train_2 == pytest.approx(8 * 5e8 * 1000 * (80 + 30 + rejected) / 1e12)
    # the reference pass: both systems' pairs, 2 N per token (1 ms)
    assert ref == pytest.approx(2 * 1000 * (41 + 30 + rejected) * 1e-3)
    assert ref_2 == pytest.approx(2 * 1000 * (80 + 30 + rejected) * 1e-3)


def test_totals_count_once_stages_once_and_the_rest_per_seed():
    stages = [Stage("a", True, "", 3600.0, "default"), Stage("b", False, "", 7200.0, "default")]
    assert totals(stages, 3) == (1.0, 2.0, 5.0)


def test_subsample_bound():
    assert subsampled(1000, 4, 1.0, 20) == 1000
    assert subsampled(1000, 4, 0.1, 20) == 100 + 4 * 21
    assert subsampled(50, 4, 0.1, 20) == 50


def test_costs_from_gpu_check(tmp_path):
    path = tmp_path / "gpu_check.json"
    path.write_text(json.dumps({"device": "NVIDIA H100", "tiny": False, "costs": {"train_mfu": 0.3}}))
    costs = load_costs(path)
    assert costs.train_mfu == 0.3 and costs.forward_mfu == Costs().forward_mfu
    assert costs.origin("train_mfu") == "measured" and costs.origin("forward_mfu") == "default"
    assert "NVIDIA H100" in costs.source
    assert load_costs(tmp_path / "absent.json") == Costs()
    path.write_text(json.dumps({"device": "cpu", "tiny": True, "costs": {"train_mfu": 0.01}}))
    with pytest.raises(ValueError, match="--tiny"):
        load_costs(path)


def test_documented_corpus_sizes_are_the_ones_counted():
    text = (REPO / "docs" / "corpora.md").read_text()
    for corpus, (train, val, test) in inputs.CORPUS_SIZES.items():
        assert f"| {corpus} | {train:,} | {val:,} | {test:,} |" in text


@pytest.mark.parametrize(
    "argv",
    [
        ["--configfile", "config/paper.yaml"],
        ["--configfile", "config/paper.yaml", "--decode-loop", "static"],
        ["--configfile", "config/pilot.yaml"],
    ],
)
def test_paper_scale_doc_shows_the_estimators_output(argv, capsys, monkeypatch):
    """docs/paper_scale.md's compute tables are this command's output, verbatim, with the command."""
    monkeypatch.chdir(REPO)
    assert main(argv) == 0
    printed = capsys.readouterr().out.strip()
    doc = (REPO / "docs" / "paper_scale.md").read_text()
    assert printed in doc, f"rerun `python -m polyalign.estimate {' '.join(argv)}` and paste it into the doc"
    assert f"python -m polyalign.estimate {' '.join(argv)}" in doc
    assert "| judge: " in printed and "| detectors: " in printed


def test_variants_are_named_as_not_counted(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    paper = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    paper["variants"] = {"hdpo_no_critic": {"parent": "hdpo", "hdpo": {"lam": 0.0}}}
    (tmp_path / "paper_ablated.yaml").write_text(yaml.safe_dump(paper))
    assert main(["--configfile", str(tmp_path / "paper_ablated.yaml")]) == 0
    assert "Not counted: the ablation variants hdpo_no_critic (" in capsys.readouterr().out
    assert main(["--configfile", "config/paper.yaml"]) == 0
    assert "Not counted" not in capsys.readouterr().out
