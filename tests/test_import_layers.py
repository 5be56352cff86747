"""The import-layer check of `make lint` (tools/import_layers.py): on the real package, and on
tiny packages that break each rule."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("import_layers", ROOT / "tools" / "import_layers.py")
layers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(layers)

TOY_LAYERS = [("low", ("polyalign", "io", "models")), ("stages", ("train", "judge")), ("report", ("report",))]


def toy_package(tmp_path: Path, files: dict[str, str]) -> Path:
    src = tmp_path / "src"
    for name, text in {"polyalign/__init__.py": "", **files}.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return src


def test_the_package_has_no_cycle_and_no_upward_import():
    assert layers.problems(layers.import_graph()) == []


def test_every_module_is_in_a_layer():
    for module in layers.module_files():
        layers.unit_of(module)  # raises naming the module


def test_an_import_inside_a_function_closes_a_cycle(tmp_path):
    src = toy_package(
        tmp_path,
        {
            "polyalign/models/__init__.py": "",
            "polyalign/models/factory.py": "from .runtime import load\n",
            "polyalign/models/runtime.py": "def load():\n    from .factory import build\n",
        },
    )
    assert layers.problems(layers.import_graph(src), TOY_LAYERS) == [
        "import cycle: polyalign.models.factory <-> polyalign.models.runtime"
    ]


def test_a_stage_importing_the_report_layer_is_named(tmp_path):
    src = toy_package(
        tmp_path,
        {
            "polyalign/report/__init__.py": "",
            "polyalign/report/tables.py": "from ..io import write\n",
            "polyalign/judge/__init__.py": "",
            "polyalign/judge/table3.py": "from ..report.tables import write_tables\n",
            "polyalign/io.py": "",
        },
    )
    assert layers.problems(layers.import_graph(src), TOY_LAYERS) == [
        "upward import: polyalign.judge.table3 (stages) imports polyalign.report.tables (report)"
    ]


def test_units_that_import_each_other_through_different_modules_are_a_cycle(tmp_path):
    # no module cycle (train.a -> judge.b, judge.c -> train.d), but the two stages depend on each other
    src = toy_package(
        tmp_path,
        {
            "polyalign/train/__init__.py": "",
            "polyalign/train/a.py": "from polyalign.judge import b\n",
            "polyalign/train/d.py": "",
            "polyalign/judge/__init__.py": "",
            "polyalign/judge/b.py": "",
            "polyalign/judge/c.py": "from ..train.d import x\n",
        },
    )
    assert layers.problems(layers.import_graph(src), TOY_LAYERS) == [
        "import cycle between units: judge <-> train"
    ]


def test_a_module_outside_every_layer_is_named(tmp_path):
    src = toy_package(tmp_path, {"polyalign/loose.py": ""})
    assert layers.problems(layers.import_graph(src), TOY_LAYERS) == [
        "polyalign.loose: in no unit of the import layers (tools/import_layers.py LAYERS)"
    ]


def test_a_package_importing_its_own_submodule_is_no_edge_upward(tmp_path):
    src = toy_package(
        tmp_path,
        {
            "polyalign/models/__init__.py": "from . import runtime\n",
            "polyalign/models/runtime.py": "from polyalign.models import settings\n",
            "polyalign/models/settings.py": "",
        },
    )
    graph = layers.import_graph(src)
    assert graph["polyalign.models"] == {"polyalign.models.runtime"}
    assert graph["polyalign.models.runtime"] == {"polyalign.models.settings"}
    assert layers.problems(graph, TOY_LAYERS) == []
