"""Adding a preference method and a system as docs/extending.md says, on a scratch copy of the
repository: their jobs appear in `snakemake -n`, the new method's jobs carry its own config block,
and every job that existed before keeps its params (the aggregate rules only gain the new rows)."""

import shutil

import pytest

from .conftest import REPO
from .dry_run import dry_run_jobs

pytestmark = pytest.mark.slow

# The recipe of docs/extending.md: a method entry, a system entry, the method's schema block.
METHOD = '    Method("toy_po", loss="hdpo_loss", start_policy="sft", block="toy_po", group="toy"),\n'
SYSTEMS = (
    '    System("toy_po", "toy_po", "plain", "Toy-PO", None, method="toy_po"),\n'
    '    System("sft_cot", "sft", "cot", "SFT + CoT", None),\n'
)
BLOCK = """  toy_po:
    type: object
    description: Toy preference method (a test of docs/extending.md).
    additionalProperties: false
    default: {}
    properties:
      <<: [*train_loop_overrides, *preference_overrides]
      lam: {type: number, minimum: 0, default: 0.7, description: "Toy: its own lambda."}
      critic: {type: boolean, default: false, description: "Toy: no critic."}
"""


def insert_before(path, marker, text):
    source = path.read_text()
    assert source.count(marker) == 1, marker
    path.write_text(source.replace(marker, text + marker))


def dump(root, name):
    """Every job of a dry run of the micro config: "rule [(wildcard, value), ...]" -> params."""
    jobs = dry_run_jobs(root, "tests/smoke/config.yaml", root / f"{name}.json")
    return {job: planned["params"] for job, planned in jobs.items()}


def without_code(params):
    return {k: v for k, v in params.items() if k != "code"}


def test_a_new_method_and_system_get_their_own_jobs_and_settings_and_change_no_other_job(tmp_path):
    for part in ("workflow", "config", "src", "tests/smoke"):
        shutil.copytree(REPO / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "environment.yml", tmp_path)
    before = dump(tmp_path, "before")

    lib = tmp_path / "src" / "polyalign"
    insert_before(lib / "methods.py", ")\nREGISTRY: dict[str, Method]", METHOD)
    insert_before(lib / "systems.py", '    System(\n        "bucket_sft_gold",', SYSTEMS)
    insert_before(lib / "config" / "config.schema.yaml", "  embeddings:\n", BLOCK)
    after = dump(tmp_path, "after")

    new = sorted({k.split(" ")[0] + " " + k for k in set(after) - set(before)})
    for seed in ("0", "1"):
        for rule in ("build_pairs", "reference_logps", "train_preference", "generate_test"):
            assert f"{rule} [('seed', '{seed}'), ('system', 'toy_po')]" in after, new
        assert f"generate_test [('seed', '{seed}'), ('system', 'sft_cot')]" in after, new
        train = after[f"train_preference [('seed', '{seed}'), ('system', 'toy_po')]"]["settings"]
        # its own block, and no other method's
        assert set(train) == {
            "model",
            "prompt",
            "profile_length",
            "train_common",
            "preference",
            "toy_po",
            "launch",
        }
        assert train["toy_po"]["lam"] == 0.7 and train["toy_po"]["critic"] is False
        pairs = after[f"build_pairs [('seed', '{seed}'), ('system', 'toy_po')]"]
        assert pairs["companion_num_samples"] == []  # alone in its group: no prompt dropped for others
    assert set(before) <= set(after)

    changed = {
        (job, key): (params.get(key), after[job].get(key))
        for job, params in before.items()
        for key in set(without_code(params)) | set(without_code(after[job]))
        if params.get(key) != after[job].get(key)
    }
    # only the aggregate rules change, and only by gaining the two new rows (names or labels)
    rows = {"toy_po", "sft_cot", "Toy-PO", "SFT + CoT"}
    wrong = {where: change for where, change in changed.items() if not only_new_rows(*change, rows)}
    assert not wrong, wrong
    # per-system and preference jobs of the existing systems keep their params
    touched = {job.split(" ")[0] for job, _ in changed}
    assert not touched & {"build_pairs", "reference_logps", "train_preference", "generate_test", "train_sft"}


def only_new_rows(old, new, rows) -> bool:
    """`new` is `old` with entries (list items or dict keys) for some of `rows` added."""
    if isinstance(old, list) and isinstance(new, list):
        added = [x for x in new if x not in old]
        return [x for x in new if x in old] == old and bool(added) and set(map(str, added)) <= rows
    if isinstance(old, dict) and isinstance(new, dict):
        kept = all(k in new and (new[k] == v or only_new_rows(v, new[k], rows)) for k, v in old.items())
        return kept and {str(k) for k in set(new) - set(old)} <= rows
    return False
