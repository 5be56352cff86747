import copy

import pytest
import yaml
from snakemake.utils import validate

from .conftest import REPO

SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")


def load(name):
    return yaml.safe_load((REPO / name).read_text())


@pytest.mark.parametrize("name", ["config/config.yaml", "config/paper.yaml", "tests/smoke/config.yaml"])
def test_shipped_configs_validate(name):
    validate(load(name), SCHEMA)


@pytest.mark.parametrize("key,value", [
    ("min_bucket_size", 0),
    ("bucket_key", ["language", "colour"]),
    ("length_thresholds", [10, 25]),
    ("seed", "forty-two"),
    ("unknown_key", 1),
])
def test_invalid_values_are_rejected_naming_the_key(key, value):
    config = copy.deepcopy(load("config/config.yaml"))
    config[key] = value
    with pytest.raises(Exception) as err:
        validate(config, SCHEMA)
    assert key in str(err.value) or repr(value) in str(err.value)


def test_every_schema_property_is_described():
    schema = yaml.safe_load(open(SCHEMA))

    def walk(node, path):
        for name, sub in node.get("properties", {}).items():
            assert sub.get("description"), f"{path}.{name} has no description"
            walk(sub, f"{path}.{name}")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{path}.*")

    walk(schema, "config")
