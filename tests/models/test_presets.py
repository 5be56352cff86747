import pytest
import yaml

from polyalign.models.presets import resolve_model_block

from ..conftest import REPO

PAPER = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())


@pytest.mark.parametrize(
    "preset,source",
    [
        ("qwen2.5-1.5b", "Qwen/Qwen2.5-1.5B"),
        ("qwen2.5-3b", "Qwen/Qwen2.5-3B"),
        ("llama-3.2-3b", "meta-llama/Llama-3.2-3B"),
        ("gemma-2-2b", "google/gemma-2-2b"),
    ],
)
def test_each_family_preset_resolves(preset, source):
    block = resolve_model_block({**PAPER, "model": {**PAPER["model"], "preset": preset}})
    assert block["source"] == source and block["family"] == preset
    # the base Llama tokenizer ships no chat template: its preset names the one shipped here
    template = "llama3" if preset == "llama-3.2-3b" else "own"
    assert block["dtype"] == "bfloat16" and block["chat_template"] == template
    assert block["max_length"] == 3072  # the model block's own key wins over the preset


def test_path_replaces_the_source_and_block_keys_win():
    cfg = {
        "model_presets": {"p": {"source": "org/m", "dtype": "bfloat16"}},
        "model": {"preset": "p", "path": "/local/m", "dtype": "float32"},
    }
    assert resolve_model_block(cfg) == {"source": "/local/m", "dtype": "float32", "family": "p"}


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown preset 'x'.*'p'"):
        resolve_model_block({"model_presets": {"p": {"source": "a/b"}}, "model": {"preset": "x"}})


def test_no_preset_leaves_the_block_alone():
    assert resolve_model_block({"model": {"source": "scratch", "hidden_size": 8}}) == {
        "source": "scratch",
        "hidden_size": 8,
    }


@pytest.mark.parametrize("preset", ["qwen2.5-1.5b", "qwen2.5-3b", "llama-3.2-3b", "gemma-2-2b"])
def test_each_family_preset_passes_the_path_check(preset):
    """The DAG-time path check (polyalign.config.paths) took the Llama preset's shipped template
    name `llama3` for a missing local file and refused the preset before any rule was built."""
    from polyalign.config.paths import check_local_paths

    block = resolve_model_block({**PAPER, "model": {**PAPER["model"], "preset": preset}})
    assert check_local_paths({"model": block}, project=REPO) == []


def test_the_path_check_knows_the_shipped_templates_and_refuses_a_missing_file():
    from polyalign.config.paths import SHIPPED_TEMPLATE_DIR, check_local_paths
    from polyalign.models.chat import SHIPPED_TEMPLATES

    assert {p.resolve().parent for p in SHIPPED_TEMPLATES.values()} == {SHIPPED_TEMPLATE_DIR}
    model = {"source": "scratch", "chat_template": "templates/none.jinja"}
    (problem,) = check_local_paths({"model": model}, project=REPO)
    assert problem.startswith("model.chat_template: 'templates/none.jinja' does not exist")
