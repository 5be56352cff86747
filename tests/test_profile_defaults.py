"""One source of defaults: the schema (shipped in the package) holds every default, and no profile
restates one, so that changing a default in the schema changes every run that does not set it."""

import json
import tomllib
from importlib import resources

import pytest
import yaml

from polyalign.config import fill_defaults, load_schema, resolve_config, restated_defaults

from .conftest import REPO

PROFILES = sorted(str(p.relative_to(REPO)) for p in (REPO / "config").glob("*.yaml")) + [
    "tests/smoke/config.yaml"
]


def load(name):
    return yaml.safe_load((REPO / name).read_text())


def test_the_shipped_profiles_are_all_checked():
    assert {"config/config.yaml", "config/paper.yaml", "config/pilot.yaml", "tests/smoke/config.yaml"} <= set(
        PROFILES
    )


@pytest.mark.parametrize("name", PROFILES)
def test_no_profile_restates_a_default(name):
    restated = restated_defaults(load(name))
    assert not restated, f"{name} restates schema defaults (delete these lines): {', '.join(restated)}"


def test_restated_defaults_names_each_restated_key():
    config = {
        "seed": 42,  # default
        "seeds": [0, 1],  # changed
        "preference": {"beta": 0.1, "lam": 0.2, "pair_weights": {"alpha": 0.5, "w_max": 4.0}},
        "dpo": {"lam": 0.0, "critic": True},  # dpo's own default lam 0, critic false
        "hdpo": {},  # the block's default, an empty mapping
        "oracle_row": 0,  # not the default false: a number is never a boolean
        "evaluation": {"bootstrap": {"alpha": 0.05}},
        "corpora": {"chitchat": {}},  # user-named entries have no default
        "judge": {"models": {"j": {"path": "x", "dtype": "auto"}}},
    }
    assert restated_defaults(config) == [
        "seed",
        "preference.beta",
        "preference.pair_weights.alpha",
        "dpo.lam",
        "hdpo",
        "evaluation.bootstrap.alpha",
        "judge.models.j.dtype",
    ]


def test_restating_a_default_or_reordering_lines_changes_no_resolved_block():
    """A rule's params are blocks of the resolved config, compared by their repr: a profile
    that states a default, or lists its keys in another order, must resolve to the same blocks."""
    minimal = load("config/config.yaml")
    verbose = fill_defaults(minimal)
    # every block's keys reversed; corpora and variants keep their order (the order entries are
    # read in, and the ablation table's row order)
    verbose = {
        k: (dict(reversed(v.items())) if isinstance(v, dict) and k not in ("corpora", "variants") else v)
        for k, v in reversed(verbose.items())
    }
    a, b = resolve_config(minimal), resolve_config(verbose)
    assert a == b
    assert all(json.dumps(a[k]) == json.dumps(b[k]) for k in a), "key order of a resolved block"


def test_the_embedded_default_resolves_to_its_settings():
    """Hand-picked values of the embedded run: what it changes, and defaults it relies on."""
    resolved = resolve_config(load("config/config.yaml"))
    assert resolved["profile"] == "embedded" and resolved["seeds"] == [0, 1, 2]
    assert resolved["evaluation"]["min_bucket_size"] == 10  # the one value it changes
    assert resolved["model"]["hidden_size"] == 96 and resolved["critic"]["epochs"] == 40
    assert resolved["preference"]["beta"] == 0.1 and resolved["dpo"]["lam"] == 0.0
    assert resolved["dpo"]["language_balance"] is False and resolved["preference"]["language_balance"] is True


def test_the_schema_ships_inside_the_package():
    resource = resources.files("polyalign.config") / "config.schema.yaml"
    assert resource.is_file()
    assert yaml.safe_load(resource.read_text(encoding="utf-8")) == load_schema()
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "config.schema.yaml" in package_data["polyalign.config"]
    assert not (REPO / "workflow" / "schemas" / "config.schema.yaml").exists(), "one schema, in the package"
    source = (REPO / "src" / "polyalign" / "config" / "schema.py").read_text()
    assert "parents[" not in source, "the library finds its schema through the package, not the checkout"


def test_dvc_tracks_the_schema_and_the_profile_as_params():
    stage = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["workflow"]
    params = [next(iter(p)) if isinstance(p, dict) else p for p in stage["params"]]
    assert params == ["config/config.yaml", "src/polyalign/config/config.schema.yaml"]
