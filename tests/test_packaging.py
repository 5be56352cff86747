import ast
import re
import sys
import tomllib

import yaml

from .conftest import REPO


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ]", req, maxsplit=1)[0].lower()


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = set(project["dependencies"]) | set(extras["test"]) | set(extras["cluster"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "python>=3.11,<3.13" in env["dependencies"]
    assert project["requires-python"] == ">=3.11,<3.13"
    assert "-e ." in pip_section
    requirements = {line for line in pip_section if not line.startswith("-")}
    assert requirements == wanted, "same requirement strings, pins included"


CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def _pip(name: str) -> list[str]:
    env = yaml.safe_load((REPO / name).read_text())
    return next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))


def test_setup_needs_no_system_packages_and_takes_cpu_torch_on_linux():
    makefile = (REPO / "Makefile").read_text()
    assert "apt-get" not in makefile and "sudo" not in makefile
    assert "TORCH_INDEX ?= https://download.pytorch.org/whl/cpu" in makefile


def test_conda_envs_install_cuda_torch_and_cpu_only_where_chosen():
    """The conda environments of GPU runs (environment.yml, the rules' env) take PyPI's torch, the
    CUDA build on Linux; environment-cpu.yml is the same with the CPU build."""
    for name in ("environment.yml", "workflow/envs/polyalign.yaml"):
        assert not any("download.pytorch.org" in line for line in _pip(name)), name
    cpu = _pip("environment-cpu.yml")
    assert CPU_INDEX in cpu and [line for line in cpu if line != CPU_INDEX] == _pip("environment.yml")


def test_license_is_the_one_pyproject_declares():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert (REPO / "LICENSE").read_text().startswith("MIT License")


def test_torch_is_pinned_exactly():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    torch = [d for d in project["dependencies"] if _name(d) == "torch"]
    assert torch == ["torch==2.13.0"]


def test_dvc_config_disables_analytics_and_update_checks():
    text = (REPO / ".dvc" / "config").read_text()
    assert re.search(r"analytics\s*=\s*false", text)
    assert re.search(r"check_update\s*=\s*false", text)


# They run the workflow; the rules never import them.
ORCHESTRATION = {"dvc", "snakemake"}


def workflow_env():
    return yaml.safe_load((REPO / "workflow" / "envs" / "polyalign.yaml").read_text())


def test_rule_env_is_the_runtime_dependencies_without_tools_or_a_torch_index():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = workflow_env()
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert not [line for line in pip if line.startswith("-")], (
        "no index or editable install: the user picks torch"
    )
    runtime = [d for d in project["dependencies"] if _name(d) not in ORCHESTRATION]
    assert pip == runtime, "the runtime dependencies of pyproject.toml, same order and pins"
    extras = {_name(d) for group in project["optional-dependencies"].values() for d in group}
    assert not extras & {_name(d) for d in pip}
    conda_env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert [d for d in env["dependencies"] if not isinstance(d, dict)] == [
        d for d in conda_env["dependencies"] if not isinstance(d, dict)
    ]


def test_every_package_the_rules_import_is_in_the_rule_env():
    """Third-party imports of the library and the rule scripts, mapped to their distributions."""
    from importlib.metadata import packages_distributions

    distributions = packages_distributions()
    pip = next(d["pip"] for d in workflow_env()["dependencies"] if isinstance(d, dict))
    declared = {_name(d).replace("_", "-") for d in pip}
    missing = {}
    for root in ("src/polyalign", "workflow/scripts"):
        for path in (REPO / root).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for top in {n.split(".")[0] for n in names} - set(sys.stdlib_module_names) - {"polyalign"}:
                    dists = {d.lower().replace("_", "-") for d in distributions.get(top, [top])}
                    if not dists & declared:
                        missing.setdefault(top, path.relative_to(REPO).as_posix())
    assert not missing, f"imported by the rules but not in workflow/envs/polyalign.yaml: {missing}"
