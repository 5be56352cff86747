"""python -m polyalign.workflow.prefetch, offline: a fake hub (snapshot_download replaced) serves every
model and corpus config/paper.yaml names; the overlay points each at its local copy."""

import json
import re
from pathlib import Path

import pytest
import yaml
from huggingface_hub.errors import GatedRepoError

from polyalign.workflow import prefetch

REPO = Path(__file__).resolve().parents[1]
PAPER = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())


def fake_hub(calls):
    def snapshot_download(repo, repo_type, revision, cache_dir):
        calls.append((repo, repo_type, revision))
        commit = f"{abs(hash((repo, repo_type))) % 10**8:08d}"
        path = Path(cache_dir) / f"{repo_type}s--{repo.replace('/', '--')}" / "snapshots" / commit
        path.mkdir(parents=True)
        return str(path)

    return snapshot_download


def test_every_named_model_and_hub_corpus_is_fetched_and_overlaid(tmp_path):
    calls = []
    overlay = prefetch.prefetch(PAPER, tmp_path, fake_hub(calls), all_presets=True)
    fetched = {(repo, kind) for repo, kind, _ in calls}
    assert len(fetched) == len(calls)  # each repository once (judges may share one)
    for repo in (
        "Qwen/Qwen2.5-1.5B",
        "Qwen/Qwen2.5-3B",
        "meta-llama/Llama-3.2-3B",
        "google/gemma-2-2b",
        "Qwen/Qwen3-8B",
        "Qwen/Qwen2.5-7B-Instruct",
        "intfloat/multilingual-e5-large",
    ):
        assert (repo, "model") in fetched, repo
    for detector in PAPER["detectors"].values():  # the detectors' model pairs
        if isinstance(detector, dict):
            assert {(m, "model") for m in detector.values() if prefetch.is_remote_hub_id(m)} <= fetched
    hub_corpora = {k for k, v in PAPER["corpora"].items() if not (v or {}).get("path")}
    assert {("corpora", k, "path") for k in hub_corpora} == set(prefetch.named_corpora(PAPER))
    # the overlay points every one of them at an existing local copy
    assert Path(overlay["model_presets"]["llama-3.2-3b"]["source"]).is_dir()
    assert Path(overlay["embeddings"]["encoder"]).is_dir()
    for key in hub_corpora:
        assert Path(overlay["corpora"][key]["path"]).is_dir()
    assert "eli5" not in overlay["corpora"]  # a local folder is not downloaded
    written = yaml.safe_load((tmp_path / "overlay.yaml").read_text())
    assert written == overlay
    revisions = json.loads((tmp_path / "revisions.json").read_text())
    assert revisions["model:google/gemma-2-2b"] == Path(overlay["model_presets"]["gemma-2-2b"]["source"]).name


def test_only_the_selected_preset_is_fetched_unless_all_are_asked_for(tmp_path):
    """The pilot runs qwen2.5-0.5b: its prefetch must not ask for the licences of the Llama and
    Gemma presets it never loads (only its detectors' Llama pair stays gated)."""
    pilot = yaml.safe_load((REPO / "config" / "pilot.yaml").read_text())
    calls = []
    overlay = prefetch.prefetch(pilot, tmp_path, fake_hub(calls))
    models = {repo for repo, kind, _ in calls if kind == "model"}
    assert "Qwen/Qwen2.5-0.5B" in models
    assert not models & {"Qwen/Qwen2.5-1.5B", "google/gemma-2-2b", "meta-llama/Llama-3.2-3B"}
    assert set(overlay["model_presets"]) == {"qwen2.5-0.5b"}
    gated = {r for r in prefetch.named_models(pilot).values() if r.startswith(prefetch.GATED_ORGS)}
    assert gated == {m for m in models if m.startswith("meta-llama/Meta-Llama-3-8B")} != set()
    # --all-presets: every preset of the profile
    everything = prefetch.named_models(pilot, all_presets=True)
    assert {k[1] for k in everything if k[0] == "model_presets"} == set(pilot["model_presets"])
    # model.path replaces the preset's source: no preset is fetched, the path is
    local = {**pilot, "model": {**pilot["model"], "path": "someone/fine-tuned"}}
    assert [k for k in prefetch.named_models(local) if k[0] == "model_presets"] == []
    assert prefetch.named_models(local)[("model", "path")] == "someone/fine-tuned"
    with pytest.raises(ValueError, match="model.preset: unknown preset 'nope'"):
        prefetch.named_models({**pilot, "model": {"preset": "nope"}})


def test_a_gated_model_names_its_licence_and_hf_token(tmp_path):
    class Response:  # what the hub answers a request without an accepted licence
        status_code, headers, request, url = 403, {}, None, "https://huggingface.co"

    def refuse(repo, **kw):
        raise GatedRepoError("403 Client Error: access to this repo is restricted", response=Response())

    with pytest.raises(
        RuntimeError, match=r"meta-llama/Llama-3.2-3B is gated.*huggingface.co/meta-llama.*HF_TOKEN"
    ):
        config = {"model_presets": {"l": {"source": "meta-llama/Llama-3.2-3B"}}, "model": {"preset": "l"}}
        prefetch.prefetch(config, tmp_path, refuse)


def test_corpus_hub_ids_are_the_loaders_defaults():
    sources = "".join(p.read_text() for p in (REPO / "src" / "polyalign" / "data" / "paper").glob("*.py"))
    defaults = set(re.findall(r'(?:hf_rows|data_file_rows|fetch_repo_file)\(\s*source,\s*"([^"]+)"', sources))
    assert set(prefetch.CORPUS_HUB_IDS.values()) == defaults


def test_the_overlay_passes_the_path_check_from_outside_the_project(tmp_path):
    """The overlay names absolute paths under --out, usually outside the project (a shared disk):
    merged over the profile, it must pass the DAG-time path check (polyalign.config.paths),
    which refuses such paths without allow_external_paths."""
    from polyalign.config.overrides import apply_overrides
    from polyalign.config.paths import check_local_paths

    overlay = prefetch.prefetch(PAPER, tmp_path, fake_hub([]))
    merged = apply_overrides(PAPER, overlay)
    merged["model"] = {**merged["model"], "source": merged["model_presets"]["qwen2.5-1.5b"]["source"]}
    problems = check_local_paths(merged, project=REPO)
    assert not [p for p in problems if "outside the project" in p], problems
