"""`--config` values inside lists and mappings get YAML types before the schema sees them."""

import pytest
from snakemake.cli import parse_config

from polyalign.config import ConfigError
from polyalign.config.overrides import apply_overrides, typed_overrides

ENTRIES = ["seeds=[3,4,5]", "model={hidden_size: 48, dtype: bfloat16, path: null}", "seed=7"]


def test_snakemake_keeps_the_scalars_inside_lists_and_mappings_strings():
    """The behaviour this module exists for (if Snakemake ever types them, it can go)."""
    parsed = parse_config(ENTRIES)
    assert parsed["seeds"] == ["3", "4", "5"]
    assert parsed["model"]["hidden_size"] == "48" and parsed["model"]["path"] == "null"
    assert parsed["seed"] == 7


def test_lists_and_mappings_are_read_with_yaml_types():
    assert typed_overrides(ENTRIES) == {
        "seeds": [3, 4, 5],
        "model": {"hidden_size": 48, "dtype": "bfloat16", "path": None},
    }
    assert typed_overrides(None) == {}


def test_overrides_merge_over_snakemakes_strings_like_snakemake_merged_them():
    as_snakemake_merged = {
        "seed": 7,
        "seeds": ["3", "4", "5"],
        "model": {"source": "scratch", "hidden_size": "48", "dtype": "bfloat16", "path": "null"},
    }
    merged = apply_overrides(as_snakemake_merged, typed_overrides(ENTRIES))
    assert merged == {
        "seed": 7,
        "seeds": [3, 4, 5],
        "model": {"source": "scratch", "hidden_size": 48, "dtype": "bfloat16", "path": None},
    }
    assert as_snakemake_merged["model"]["hidden_size"] == "48"  # the input is not modified


def test_a_malformed_list_names_the_key():
    with pytest.raises(ConfigError, match=r"--config seeds: not a YAML list or mapping"):
        typed_overrides(["seeds=[3, 4"])
