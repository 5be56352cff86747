"""config/pilot.yaml is the paper profile with exactly these changes (so the two stay in step), and
the estimator puts it within its one-GPU budget."""

import yaml

from polyalign.estimate import Costs, Estimator, load_profile, totals

from .conftest import REPO


def load(name):
    return yaml.safe_load((REPO / "config" / name).read_text())


def flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flat(v, key + "."))
        else:
            out[key] = v
    return out


def test_pilot_differs_from_paper_only_where_intended():
    paper, pilot = flat(load("paper.yaml")), flat(load("pilot.yaml"))
    changed = {k for k in paper.keys() | pilot.keys() if paper.get(k, "<absent>") != pilot.get(k, "<absent>")}
    assert changed == {
        "profile",
        "output_root",
        "subsample.fraction",
        "subsample.min_per_stratum",
        "model_presets.qwen2.5-0.5b.source",
        "model_presets.qwen2.5-0.5b.chat_template",
        "model_presets.qwen2.5-0.5b.dtype",
        "model.preset",
        "generation.batch_size",
        "judge.models.qwen3_8b.path",
        "judge.models.qwen3_8b.dtype",
        "judge.models.qwen3_8b.chat_template_kwargs.enable_thinking",
    }
    assert pilot["model.preset"] == "qwen2.5-0.5b" and pilot["profile"] == "pilot"
    assert len(load("pilot.yaml")["corpora"]) == 14


def test_pilot_fits_four_gpu_hours_with_three_seeds_by_the_estimate():
    config = load_profile(load("pilot.yaml"))
    assert config["seeds"] == [0, 1, 2] and len(config["judge"]["models"]) == 1
    # every stratum keeps at least what a bucket needs for its reference and its test metrics
    assert config["subsample"]["min_per_stratum"] >= max(
        config["min_bucket_size"], config["evaluation"]["min_bucket_size"]
    )
    stages = Estimator(config, Costs(), "static").stages()
    assert any(s.name.startswith("judge") for s in stages) and any(
        s.name.startswith("detectors") for s in stages
    )
    assert totals(stages, 3)[2] <= 4.0
