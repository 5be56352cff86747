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
    out = anchor_paths(config, tmp_path, "runs/paper")
    # relative to the output root, so that a moved checkout keeps every param (no absolute path)
    assert out["corpora"]["eli5"]["path"] == "../../data/paper/eli5"
    assert out["launch"]["accelerate_config"] == "../../workflow/accelerate/ddp.yaml"
    for key in ("model", "detectors", "bucket_key", "missing", "absolute"):
        assert out[key] == config[key]
    assert out["corpora"]["dolly"] == {}
    # the anchored paths name the same files from the output root
    root = tmp_path / "runs" / "paper"
    assert (root / out["corpora"]["eli5"]["path"]).resolve() == (tmp_path / "data/paper/eli5").resolve()
    # a moved checkout gives the same config
    moved = tmp_path.parent / (tmp_path.name + "-moved")
    tmp_path.rename(moved)
    assert anchor_paths(config, moved, "runs/paper") == out


def test_an_output_root_outside_the_project_gets_absolute_paths(tmp_path):
    (tmp_path / "project" / "data" / "x").mkdir(parents=True)
    out = anchor_paths({"p": "data/x"}, tmp_path / "project", tmp_path / "scratch" / "run")
    assert out == {"p": str(tmp_path / "project" / "data" / "x")}


def test_the_output_root_itself_is_never_rewritten(tmp_path):
    # once runs/paper exists, anchoring it from itself would give "." and move the run into the
    # project's own results/ (the committed embedded outputs)
    (tmp_path / "runs" / "paper").mkdir(parents=True)
    config = {"output_root": "runs/paper", "detectors": {"x": "runs/paper"}}
    out = anchor_paths(config, tmp_path, "runs/paper")
    assert out["output_root"] == "runs/paper" and out["detectors"]["x"] == "."
