import re
import tomllib

import yaml

from .conftest import REPO


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ]", req, 1)[0].lower()


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = set(project["dependencies"]) | set(extras["test"]) | set(extras["cluster"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "python=3.11" in env["dependencies"]
    assert "-e ." in pip_section
    assert set(pip_section) - {"-e ."} == wanted, "same requirement strings, pins included"


def test_torch_is_pinned_exactly():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    torch = [d for d in project["dependencies"] if _name(d) == "torch"]
    assert torch == ["torch==2.13.0"]


def test_dvc_config_disables_analytics_and_update_checks():
    text = (REPO / ".dvc" / "config").read_text()
    assert re.search(r"analytics\s*=\s*false", text)
    assert re.search(r"check_update\s*=\s*false", text)
