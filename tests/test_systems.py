import pytest

from polyalign import systems
from polyalign.preference.config import START_POLICY
from polyalign.preference.config import SYSTEMS as PREFERENCE_CONFIG_SYSTEMS
from polyalign.report.published import PAPER_LABELS, system_label
from polyalign.report.table2 import ordered_systems


def test_paper_systems_in_table_order_and_oracle_only_on_request():
    assert systems.systems() == ["base", "cot", "sft", "bucket_sft", "dpo", "hdpo"]
    assert systems.systems(oracle_row=True) == [
        "base",
        "cot",
        "sft",
        "bucket_sft",
        "dpo",
        "hdpo",
        "bucket_sft_gold",
    ]


def test_models_styles_and_start_policies():
    models = {s: systems.model_of(s) for s in systems.systems(oracle_row=True)}
    assert models == {
        "base": "base",
        "cot": "base",
        "sft": "sft",
        "bucket_sft": "bucket_sft",
        "dpo": "dpo",
        "hdpo": "hdpo",
        "bucket_sft_gold": "bucket_sft",
    }
    styles = [systems.prompt_style(s) for s in systems.systems(oracle_row=True)]
    assert styles == ["plain", "cot", "plain", "profile", "plain", "profile", "profile"]
    assert systems.start_policy("dpo") == "sft" and systems.start_policy("hdpo") == "bucket_sft"
    with pytest.raises(ValueError, match="not a preference system"):
        systems.start_policy("sft")
    assert systems.method_of("hdpo") == "hdpo"
    with pytest.raises(ValueError, match="not a preference system"):
        systems.method_of("bucket_sft")
    assert systems.SAMPLE_POLICIES == ("sft", "bucket_sft")


def test_profile_length_is_forced_only_for_the_oracle_row():
    assert systems.get("bucket_sft_gold").profile_length == "gold"
    assert [s for s in systems.REGISTRY if systems.get(s).profile_length is not None] == ["bucket_sft_gold"]


def test_only_the_base_model_is_shared_across_seeds():
    per_seed = {s for s in systems.REGISTRY if systems.get(s).trained_per_seed}
    assert per_seed == {"sft", "bucket_sft", "dpo", "hdpo", "bucket_sft_gold"}


def test_labels_and_published_names():
    assert [systems.label(s) for s in systems.systems()] == [
        "BaseLM",
        "CoT",
        "SFT",
        "Bucket-SFT",
        "DPO",
        "HDPO",
    ]
    assert systems.published_label("sft") == "Full-SFT"
    # no paper row: the label stands in
    assert systems.published_label("bucket_sft_gold") == "Bucket-SFT (oracle: gold length)"
    assert systems.label("mystery") == "mystery"
    with pytest.raises(ValueError, match="unknown system 'mystery'"):
        systems.get("mystery")


def test_table_order_puts_unknown_names_last():
    assert systems.table_order(["x", "hdpo", "bucket_sft_gold", "base"]) == [
        "base",
        "hdpo",
        "bucket_sft_gold",
        "x",
    ]


def test_library_and_report_read_the_registry():
    for s in systems.REGISTRY:
        assert system_label(s) == systems.label(s)
    assert PREFERENCE_CONFIG_SYSTEMS == ("dpo", "hdpo")
    assert START_POLICY == {"dpo": "sft", "hdpo": "bucket_sft"}
    assert PAPER_LABELS["sft"] == "Full-SFT"
    summary = {"systems": ["bucket_sft_gold", "hdpo", "sft"]}
    assert ordered_systems(summary) == ["sft", "hdpo", "bucket_sft_gold"]


def test_prompt_style_of_each_system_and_an_unknown_one():
    assert [systems.prompt_style(s) for s in ("base", "cot", "sft", "bucket_sft", "dpo", "hdpo")] == [
        "plain",
        "cot",
        "plain",
        "profile",
        "plain",
        "profile",
    ]
    with pytest.raises(ValueError):
        systems.prompt_style("gpt")
