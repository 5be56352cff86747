"""The rerun trigger (polyalign.provenance): every rule's `code` param is complete (an edit to any
library code or package data a job can run changes it) and narrow (comments, docstrings and code
a job cannot reach change nothing). Digests are computed directly on a scratch copy of the
library; tests/test_staleness.py checks the same with `snakemake -n`."""

import ast
import re
import shutil
from pathlib import Path

import pytest

from polyalign.provenance import package_data, reachable_modules, source_digest

from .conftest import REPO

LIBRARY = REPO / "src" / "polyalign"
CODE_EDIT = b"\nEDITED_FOR_A_TEST = 1\n"

# Modules that no job runs, each with why it need not trigger a rerun.
NOT_IN_ANY_JOB = {
    "polyalign.workflow.recovery": "repairs interrupted runs from the command line (README); runs in no job",
    "polyalign.config.resolve": "resolves the config in the Snakefile; a job sees its result as params",
    "polyalign.config.checks": "cross-field config checks in the Snakefile; a job sees only the checked config",
    "polyalign.config.paths": "path containment checks run by config.checks in the Snakefile; no job runs them",
    "polyalign.config.overrides": "types --config values in the Snakefile; a job sees the resolved config",
    "polyalign.config.output_root": "anchors config paths for output_root in the Snakefile; runs in no job",
    "polyalign.workflow.prefetch": "downloads models and corpora where the network is (docs/paper_scale.md); runs in no job",
    "polyalign.models.presets": "expands model.preset in the Snakefile; a job sees the resolved model block",
    "polyalign.seeds": "derives run seeds and seeded settings in the Snakefile; a job sees them as params",
    "polyalign.workflow.variants": "parses config `variants:` in the Snakefile; a variant's job sees its merged config as params",
    "polyalign.config.__main__": "prints schema defaults on the command line (docs); runs in no job",
    "polyalign.data.fetch": "the fetch's command-line twin (--restore-pristine); the rule runs fetch_embedded",
    "polyalign.estimate": "the compute estimate's command line (docs/paper_scale.md); runs in no job",
    "polyalign.estimate.__main__": "the compute estimate's command line; runs in no job",
    "polyalign.estimate.costs": "per-token costs of the compute estimate; runs in no job",
    "polyalign.estimate.inputs": "corpus sizes and model shapes of the compute estimate; runs in no job",
    "polyalign.estimate.stages": "per-stage arithmetic of the compute estimate; runs in no job",
}


def rule_scripts() -> dict[str, Path]:
    """rule name -> its script, read from workflow/rules/*.smk."""
    scripts = {}
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        rule = None
        for line in smk.read_text().splitlines():
            if m := re.match(r"rule (\w+):", line):
                rule = m.group(1)
            elif (m := re.match(r'\s+"\.\./scripts/(\w+\.py)"', line)) and rule:
                scripts[rule] = REPO / "workflow" / "scripts" / m.group(1)
    return scripts


RULES = rule_scripts()


def digests(src: Path) -> dict[str, str]:
    return {rule: source_digest(script, src) for rule, script in RULES.items()}


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A scratch copy of src/polyalign (every test restores what it edits): the `src` of the
    digests and the digests of the unedited copy."""
    src = tmp_path_factory.mktemp("src")
    shutil.copytree(LIBRARY, src / "polyalign", ignore=shutil.ignore_patterns("__pycache__"))
    return src, digests(src)


def rules_changed_by(library, rel: str, edit) -> set[str]:
    """The rules whose digest changes when `edit(bytes) -> bytes` is applied to polyalign/`rel`."""
    src, before = library
    path = src / "polyalign" / rel
    original = path.read_bytes()
    path.write_bytes(edit(original))
    try:
        after = digests(src)
    finally:
        path.write_bytes(original)
    return {rule for rule in RULES if after[rule] != before[rule]}


def append(data: bytes):
    return lambda original: original + data


def test_the_rule_map_is_the_workflow():
    assert len(RULES) > 40 and {"build_corpus", "train_sft", "train_preference"} <= set(RULES)
    assert all(script.is_file() for script in RULES.values())


CORPUS_LOADERS = ["data/embedded.py"] + sorted(
    f"data/paper/{p.name}" for p in (LIBRARY / "data" / "paper").glob("*.py")
)


@pytest.mark.parametrize("loader", CORPUS_LOADERS)
def test_an_edit_to_a_corpus_loader_changes_the_corpus_build(library, loader):
    # the registry imports the loaders to register them: the walk must see that import
    assert "build_corpus" in rules_changed_by(library, loader, append(CODE_EDIT))


def test_an_edit_to_preference_training_changes_train_preference_alone(library):
    # DPO/HDPO training is reached only through the preference package's lazy table; nothing
    # upstream of train_preference (SFT, pairs, reference log-probs) runs it
    assert rules_changed_by(library, "preference/train.py", append(CODE_EDIT)) == {"train_preference"}


def test_an_edit_to_pairing_never_changes_sft(library):
    changed = rules_changed_by(library, "preference/pairs.py", append(CODE_EDIT))
    assert changed == {"build_pairs", "reference_logps", "train_preference"}
    assert not changed & {"pretrain_base", "train_sft", "train_tokenizer", "build_corpus"}


def test_an_edit_to_the_preference_losses_never_changes_sft_through_launch(library):
    # train.launch used to import preference to dispatch stages, so SFT's digest held pairs.py;
    # losses.py itself is SFT's loss module too, so only the launch path is checked here
    modules = reachable_modules(RULES["train_sft"], library[0])
    assert not any(name.startswith("polyalign.preference") for name in modules)


@pytest.mark.parametrize("rel", ["io.py", "systems.py"])
@pytest.mark.parametrize(
    "edit",
    [
        append(b"\n# a comment at the end\n"),
        lambda s: s.replace(b'"""', b'"""Edited docstring. ', 1),  # the module docstring
        lambda s: s.replace(b"\ndef ", b"\n\n# a comment between definitions\ndef ", 1),
    ],
    ids=["comment", "docstring", "comment-between"],
)
def test_a_comment_or_docstring_changes_no_digest(library, rel, edit):
    assert edit((LIBRARY / rel).read_bytes()) != (LIBRARY / rel).read_bytes()
    assert rules_changed_by(library, rel, edit) == set()


def test_a_code_edit_to_a_module_every_rule_uses_changes_every_digest(library):
    # the other side of the test above: an edit Python executes, to the script plumbing every rule
    # imports (rule logging)
    assert rules_changed_by(library, "workflow/io.py", append(CODE_EDIT)) == set(RULES)


@pytest.mark.parametrize(
    "data_file, reader",
    [
        ("report/published_numbers.yaml", "polyalign.report.published"),
        ("human_eval/rating_page.html", "polyalign.human_eval.export"),
        ("data/embedded_pins.json", "polyalign.data.fetch_embedded"),
    ],
)
def test_an_edit_to_a_package_data_file_changes_the_rules_that_read_it(library, data_file, reader):
    readers = {rule for rule, script in RULES.items() if reader in reachable_modules(script, library[0])}
    assert readers, f"no rule reaches {reader}"
    assert rules_changed_by(library, data_file, append(b"\n")) == readers


def test_the_named_data_files_have_the_expected_readers(library):
    # hand-checked anchors for the test above
    changed = rules_changed_by(library, "human_eval/rating_page.html", append(b"\n"))
    assert changed == {"human_eval_export"}
    assert rules_changed_by(library, "data/embedded_pins.json", append(b"\n")) == {
        "fetch_embedded_corpus",
        "build_pretrain_text",
        "table1_corpus_inventory",  # names each pre-training source's package (data.pretrain_text)
    }
    changed = rules_changed_by(library, "report/published_numbers.yaml", append(b"\n"))
    assert {"replication_report", "table2_main_benchmark", "table8_human_eval"} <= changed
    assert not changed & {"build_corpus", "train_sft", "evaluate_system"}


def test_every_library_module_and_data_file_is_in_some_rule_digest():
    modules, data = set(), set()
    for script in RULES.values():
        reached = reachable_modules(script)
        modules |= set(reached)
        data |= set(package_data(reached).values())
    library = {
        ".".join(p.relative_to(LIBRARY.parent).with_suffix("").parts).removesuffix(".__init__")
        for p in LIBRARY.rglob("*.py")
    }
    missing = library - modules - set(NOT_IN_ANY_JOB)
    assert not missing, (
        f"in no rule's digest (reach them from a script or allow-list them): {sorted(missing)}"
    )
    stale_allowances = set(NOT_IN_ANY_JOB) & modules
    assert not stale_allowances, f"allow-listed but in a digest: {sorted(stale_allowances)}"
    files = {p for p in LIBRARY.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")}
    assert files - data == set(), f"package data in no rule's digest: {sorted(files - data)}"


def _dynamic_imports(path: Path) -> set[str]:
    """The functions of `path` ("<module>" for module level) that call importlib.import_module
    or __import__."""

    def visit(node, where):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            where = node.name
        if isinstance(node, ast.Call):
            f = node.func
            if (f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")) in (
                "import_module",
                "__import__",
            ):
                yield where
        for child in ast.iter_child_nodes(node):
            yield from visit(child, where)

    return set(visit(ast.parse(path.read_text(encoding="utf-8")), "<module>"))


def test_the_library_imports_nothing_the_walk_cannot_see():
    # a package __init__'s `__getattr__` reading its `_LAZY` table is followed by the walk; the
    # training launcher imports, in a launched process, the stage its caller already imported
    allowed = {"polyalign/train/launch.py": {"load_stage"}}
    for path in sorted(LIBRARY.rglob("*.py")):
        rel = path.relative_to(LIBRARY.parent).as_posix()
        functions = _dynamic_imports(path)
        if path.name == "__init__.py" and "_LAZY = {" in path.read_text():
            functions -= {"__getattr__"}
        assert functions <= allowed.get(rel, set()), f"{rel}: dynamic import in {sorted(functions)}"


def _package(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "polyalign" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_lazy_name_reaches_its_submodule_only(tmp_path):
    src = _package(
        tmp_path / "src",
        {
            "__init__.py": "",
            "pkg/__init__.py": '_LAZY = {"fast": "a", "slow": "b"}\n',
            "pkg/a.py": "def fast(): pass\n",
            "pkg/b.py": "def slow(): pass\n",
            "pkg/c.py": "",
        },
    )
    script = tmp_path / "script.py"
    script.write_text("def main():\n    from polyalign.pkg import fast\n")
    assert set(reachable_modules(script, src)) == {"polyalign", "polyalign.pkg", "polyalign.pkg.a"}
    script.write_text("import polyalign.pkg\n")  # the module object: any lazy name is reachable
    assert set(reachable_modules(script, src)) == {
        "polyalign",
        "polyalign.pkg",
        "polyalign.pkg.a",
        "polyalign.pkg.b",
    }


def test_a_data_file_counts_when_a_module_names_it(tmp_path):
    src = _package(
        tmp_path / "src",
        {
            "__init__.py": "",
            "reader.py": 'NAME = "table.yaml"\n',
            "table.yaml": "a: 1\n",
            "unread.yaml": "b: 2\n",
        },
    )
    script = tmp_path / "script.py"
    script.write_text("from polyalign import reader\n")
    before = source_digest(script, src)
    (src / "polyalign" / "unread.yaml").write_text("b: 3\n")
    assert source_digest(script, src) == before
    (src / "polyalign" / "table.yaml").write_text("a: 2\n")
    assert source_digest(script, src) != before


def test_train_launch_imports_no_trainer(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("from polyalign.train.launch import run_training\n")
    modules = reachable_modules(script)
    assert not {"polyalign.preference", "polyalign.train.sft", "polyalign.preference.train"} & set(modules)


def test_a_stage_function_round_trips_by_name():
    from polyalign.preference.train import preference_job
    from polyalign.train.launch import load_stage, stage_entry
    from polyalign.train.sft import sft_job

    assert stage_entry(sft_job) == "polyalign.train.sft:sft_job"
    assert load_stage(stage_entry(preference_job)) is preference_job
    with pytest.raises(ValueError, match="not importable by name"):
        stage_entry(lambda job: job)


@pytest.mark.parametrize("rel", ["systems.py", "methods.py"])
def test_a_registry_edit_reruns_no_model_training_before_the_preference_stage(library, rel):
    # a new system or method entry changed the digest of 34 of 44 rules, SFT, BaseLM and the
    # tokenizer included (prompts and the SFT loss module imported the registries)
    changed = rules_changed_by(library, rel, append(CODE_EDIT))
    untouched = {"build_corpus", "train_tokenizer", "pretrain_base", "train_sft", "features", "train_critic"}
    assert changed and not changed & untouched
    # 22 of 44 rules, plus the two ablation rules (variants' labels) and the independent detector
    # pair's sampling (generation renders prompts in the system's style)
    assert len(changed) <= 25


SCHEMA = "config/config.schema.yaml"
TRAINING = {
    "build_corpus",
    "train_tokenizer",
    "pretrain_base",
    "train_sft",
    "train_preference",
    "train_critic",
}


def replace_once(old: bytes, new: bytes):
    def edit(original: bytes) -> bytes:
        assert original.count(old) == 1, old
        return original.replace(old, new)

    return edit


def test_a_default_read_by_code_reruns_its_readers_only(library):
    # config.schema.yaml is package data of config/schema.py, which 37 of 46 rules import: the
    # whole file in their digest made any default edit rerun BaseLM, SFT and preference training
    edit = replace_once(
        b"minimum: 2, default: 20, description: Test rows", b"minimum: 2, default: 21, description: Test rows"
    )
    changed = rules_changed_by(library, SCHEMA, edit)
    assert "evaluate_system" in changed and "combine_metrics" in changed
    assert not changed & TRAINING
    assert len(changed) <= 13


def test_a_default_only_the_resolved_config_carries_changes_no_digest(library):
    # preference.lam reaches training through the resolved config, i.e. the rule's params
    edit = replace_once(
        b'default: 0.25, description: "Weight lambda', b'default: 0.3, description: "Weight lambda'
    )
    assert rules_changed_by(library, SCHEMA, edit) == set()
    params = (REPO / "workflow" / "rules" / "preference.smk").read_text()
    assert '"preference", method_block(wc.system)' in params


def test_a_new_key_in_a_method_block_changes_the_rules_that_check_its_keys(library):
    # method_block refuses a method block that lacks a defaulted key: the key names count
    edit = replace_once(
        b"embeddings:\n    type: object",
        b"embeddings:\n    type: object\n    default_probe: 1",
    )
    assert rules_changed_by(library, SCHEMA, edit) == set()  # not a key of any block's defaults
    readers = {
        rule for rule, script in RULES.items() if "polyalign.preference.config" in reachable_modules(script)
    }
    edit = replace_once(
        b'      lam: {type: number, minimum: 0, default: 0.0, description: "DPO: no critic regulariser."}',
        b'      lam: {type: number, minimum: 0, default: 0.0, description: "DPO: no critic regulariser."}\n'
        b"      probe: {type: number, default: 1.0}",
    )
    assert rules_changed_by(library, SCHEMA, edit) == readers


def test_a_computed_schema_read_puts_the_whole_schema_in_the_digest(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(LIBRARY, src / "polyalign", ignore=shutil.ignore_patterns("__pycache__"))
    (src / "polyalign" / "probe.py").write_text(
        "from polyalign.config import block_defaults\n\ndef read(block):\n    return block_defaults(block)\n"
    )
    script = tmp_path / "script.py"
    script.write_text("from polyalign import probe\n")
    before = source_digest(script, src)
    schema = src / "polyalign" / "config" / "config.schema.yaml"
    schema.write_bytes(
        schema.read_bytes().replace(
            b"default: 20, description: Test rows", b"default: 21, description: Test rows"
        )
    )
    assert source_digest(script, src) != before  # any default: the block is known only at run time
    (src / "polyalign" / "probe.py").write_text(
        'from polyalign.config import block_defaults\n\ndef read():\n    return block_defaults("judge")\n'
    )
    narrow = source_digest(script, src)
    schema.write_bytes(
        schema.read_bytes().replace(
            b"default: 21, description: Test rows", b"default: 22, description: Test rows"
        )
    )
    assert source_digest(script, src) == narrow  # a literal block: only the judge block's defaults


def test_an_edit_to_the_evaluation_rows_never_reruns_the_encoder(library):
    # embed_texts lived in evaluation/rows.py: any edit to row alignment reran the MAUVE encoder jobs
    changed = rules_changed_by(library, "evaluation/rows.py", append(CODE_EDIT))
    assert "evaluate_system" in changed
    assert not changed & {"features_test", "figure_tsne"}


def test_an_edit_to_the_encoder_reruns_the_test_sets_only(library):
    # the embeddings are written by the test sets' feature job: the train split's features (and
    # the critic, pairs and training after them) do not read the encoder's code
    changed = rules_changed_by(library, "evaluation/embeddings.py", append(CODE_EDIT))
    assert "features_test" in changed
    assert not changed & {"features", "train_critic", "train_preference", "train_sft"}
