"""benchmarks/gpu_check.py --tiny on the CPU: the script runs every check on a tiny model and writes
the JSON whose "costs" block the estimator reads (and refuses, since --tiny numbers are no GPU's)."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from polyalign.estimate import load_costs
from polyalign.estimate.costs import COST_KEYS

SPEC = importlib.util.spec_from_file_location(
    "gpu_check", Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"
)
gpu_check = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(gpu_check)


def test_tiny_run_writes_every_measurement_the_estimate_needs(tmp_path, monkeypatch):
    # without trl, as on a node installed with the cluster extra only: --skip-trl must not import it
    monkeypatch.setitem(sys.modules, "trl", None)
    out = tmp_path / "gpu_check.json"
    assert gpu_check.main(["--tiny", "--skip-trl", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["tiny"] is True and set(result["costs"]) == set(COST_KEYS)
    assert result["sft"]["gradient_checkpointing"] is True and result["sft"]["tokens_per_s"] > 0
    assert [d["batch"] for d in result["decode"]] == [8, 4]  # the pilot's and the paper's batch (tiny)
    for d in result["decode"]:
        assert d["step_seconds"] > 0 and d["static_tokens_per_s"] > 0 and d["continuous_tokens_per_s"] > 0
        assert "peak_memory_gb" in d
    with pytest.raises(ValueError, match="--tiny"):
        load_costs(out)
    # the same JSON without the tiny flag is a GPU's: every cost is then measured
    result["tiny"] = False
    out.write_text(json.dumps(result))
    costs = load_costs(out)
    assert costs.origin(*COST_KEYS[1:]) == "measured" and costs.train_mfu == result["costs"]["train_mfu"]


def test_pair_tokens_count_what_the_rows_hold():
    # prompt [5, 6, 7], chosen [8, 9], rejected [10]: rows of 5 and 4 tokens, or one shared row
    # 5, 6, 7, 8, 9, bridge, 10 (train.logprobs.shared_prompt_batch) of 7
    from polyalign.preference.examples import PairExample
    from polyalign.train.data import Example

    pair = PairExample(
        id="p",
        chosen=Example(id="p", input_ids=[5, 6, 7, 8, 9], labels=[-100, -100, -100, 8, 9]),
        rejected=Example(id="p", input_ids=[5, 6, 7, 10], labels=[-100, -100, -100, 10]),
    )
    assert gpu_check.pair_tokens(pair, shared_prompt=False) == 9
    assert gpu_check.pair_tokens(pair, shared_prompt=True) == 7
