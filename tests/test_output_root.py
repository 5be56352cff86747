"""Config paths under a run's own output root keep naming the files they named."""

from polyalign.config.output_root import anchor_paths


def test_existing_relative_paths_are_anchored_and_the_rest_kept(tmp_path):
    (tmp_path / "data" / "paper" / "eli5").mkdir(parents=True)
    (tmp_path / "workflow" / "accelerate").mkdir(parents=True)
    (tmp_path / "workflow" / "accelerate" / "ddp.yaml").write_text("")
    (tmp_path / "results" / "models" / "base").mkdir(parents=True)
    config = {
        "corpora": {"eli5": {"path": "data/paper/eli5"}, "dolly": {}},
        "launch": {"accelerate_config": "workflow/accelerate/ddp.yaml"},
        "model": {"source": "Qwen/Qwen2.5-3B", "device": "cuda"},
        "detectors": {"run_model": "results/models/base"},  # the run's own output: relative to the root
        "bucket_key": ["language", "track"],
        "missing": "data/not/there",
        "absolute": "/models/x",
    }
    out = anchor_paths(config, tmp_path)
    assert out["corpora"]["eli5"]["path"] == str(tmp_path / "data" / "paper" / "eli5")
    assert out["launch"]["accelerate_config"] == str(tmp_path / "workflow" / "accelerate" / "ddp.yaml")
    for key in ("model", "detectors", "bucket_key", "missing", "absolute"):
        assert out[key] == config[key]
    assert out["corpora"]["dolly"] == {}
