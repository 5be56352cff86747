"""Human-evaluation export (stratified, blinded, keyed) and strict aggregation of returned ratings."""

import json
import re

import numpy as np
import pytest

from polyalign.human_eval import CRITERIA
from polyalign.human_eval.aggregate import ordinal_alpha, read_ratings_file, summarize_sheet
from polyalign.human_eval.export import build_sheet, render_page, stratified_prompts
from polyalign.io import InputError
from polyalign.report.published import load_published
from polyalign.report.table8 import table8_sections

from .conftest import SYSTEMS, make_records, sheet_outputs


def test_stratified_sample_spreads_over_bins_and_backfills_a_short_bin():
    records = make_records(per_bin=(10, 10, 2, 10))
    picked = stratified_prompts(records, 20, seed=0)
    counts = {b: sum(r["length_bin"] == b for r in picked) for b in ["short", "medium", "long", "xlong"]}
    assert counts == {"short": 6, "medium": 6, "long": 2, "xlong": 6}
    assert [r["id"] for r in stratified_prompts(records, 8, seed=0)] == [
        r["id"] for r in stratified_prompts(records, 8, seed=0)
    ]
    assert {b: sum(r["length_bin"] == b for r in stratified_prompts(records, 8, seed=0)) for b in counts} == {
        b: 2 for b in counts
    }
    with pytest.raises(ValueError, match="only 32 test records"):
        stratified_prompts(records, 33, seed=0)


def test_sheet_is_blinded_shuffled_and_fully_keyed(sheet_and_key):
    sheet, key = sheet_and_key
    assert len(sheet["items"]) == 2 * len(SYSTEMS) == len(key["items"])
    text = json.dumps(sheet["items"])
    assert all(f'"{s}"' not in text for s in SYSTEMS)  # no system name outside the response texts
    assert all("system" not in item for item in sheet["items"])
    pairs = {(v["system"], v["record"]) for v in key["items"].values()}
    assert pairs == {(s, p) for s in SYSTEMS for p in key["prompts"]}
    order = [key["items"][i["item"]]["system"] for i in sheet["items"]]
    assert order != sorted(order, key=SYSTEMS.index)  # shuffled (fixed seed: deterministic)


def test_page_embeds_the_sheet_without_ending_its_script(sheet_and_key):
    sheet, _ = sheet_and_key
    page = render_page(sheet)
    assert "__SHEET_JSON__" not in page and page.count("</script>") == 2
    assert (
        "\\u003c/script\\u003e" in page and "localStorage" in page and "http" not in page.split("<script")[0]
    )


def write_ratings(path, key, rater, score_of):
    ratings = {
        item: {c: score_of(t["system"], t["record"], c) for c in CRITERIA} for item, t in key["items"].items()
    }
    path.write_text(json.dumps({"sheet": key["sheet"], "rater": rater, "ratings": ratings}))
    return path


def test_means_are_unblinded_per_system_and_criterion(tmp_path, sheet_and_key):
    _, key = sheet_and_key
    level = {s: i + 1 for i, s in enumerate(SYSTEMS)}  # base 1 ... hdpo 5
    a = write_ratings(tmp_path / "a.json", key, "r1", lambda s, p, c: level[s])
    b = write_ratings(tmp_path / "b.json", key, "r2", lambda s, p, c: min(5, level[s] + (c == "task")))
    summary = summarize_sheet(key, [a, b], n_resamples=1000, seed=0)
    assert summary["raters"] == ["r1", "r2"]
    assert summary["systems"]["dpo"]["grounding"]["point"] == pytest.approx(3.0)
    assert summary["systems"]["dpo"]["task"]["point"] == pytest.approx(3.5)
    assert summary["systems"]["dpo"]["mean"]["point"] == pytest.approx((3.5 + 4 * 3) / 5)
    assert summary["systems"]["hdpo"]["task"] == {"point": 5.0, "low": 5.0, "high": 5.0}
    alpha = summary["krippendorff_alpha_ordinal"]
    assert alpha["grounding"] == pytest.approx(1.0)  # the raters agree exactly there
    assert alpha["task"] < 1.0


def test_ordinal_alpha_matches_krippendorffs_worked_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers, 12 units;
    # published ordinal alpha 0.815
    n = np.nan
    data = np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
            [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n],
        ]
    )
    cube = np.repeat(data[:, None, :, None], len(CRITERIA), axis=3)
    assert ordinal_alpha(cube)["task"] == pytest.approx(0.815, abs=5e-4)
    assert ordinal_alpha(cube[:1])["all"] is None


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["ratings"].pop(next(iter(d["ratings"]))), "is not rated (partial ratings file)"),
        (lambda d: next(iter(d["ratings"].values())).pop("align"), "has no score for criterion 'align'"),
        (lambda d: next(iter(d["ratings"].values())).update(task=6), "score must be an integer 1-5, got 6"),
        (
            lambda d: next(iter(d["ratings"].values())).update(task="3"),
            "score must be an integer 1-5, got '3'",
        ),
        (lambda d: d.update(sheet="zh-other"), "but the key is for sheet"),
        (lambda d: d.update(rater=" "), "'rater' must be a non-empty string"),
        (lambda d: d["ratings"].update({"zh-x-9999": {}}), "item 'zh-x-9999' is not on sheet"),
    ],
)
def test_malformed_or_partial_ratings_name_the_file_and_item(tmp_path, sheet_and_key, mutate, message):
    _, key = sheet_and_key
    path = write_ratings(tmp_path / "bad.json", key, "r1", lambda s, p, c: 3)
    data = json.loads(path.read_text())
    mutate(data)
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=re.escape(message)) as err:
        read_ratings_file(path, key)
    assert "bad.json" in str(err.value)


def test_broken_json_names_the_file(tmp_path, sheet_and_key):
    _, key = sheet_and_key
    (tmp_path / "torn.json").write_text('{"sheet": ')
    with pytest.raises(InputError, match="torn.json: not a JSON ratings file"):
        read_ratings_file(tmp_path / "torn.json", key)


def test_without_ratings_table8_says_so_and_shows_only_published():
    assert summarize_sheet({"sheet": "s"}, [], n_resamples=1000, seed=0) is None
    sections = table8_sections({"zh": None}, load_published(), {"sft": "Full-SFT"})
    assert "No ratings have been returned" in sections[0]["rows"][0][0]
    assert ["Full-SFT", "4.55"] in sections[1]["rows"]


CRAFTED = [
    "<!--<script>",
    "<script>alert(1)</script>",
    "</textarea>",
    '"><img src=x onerror=alert(1)>',
    "<!--",
    "]]>",
]


def test_no_text_can_change_the_page_structure():
    """Class: a generation holding `<!--<script>` without `-->` (it blanked the whole page): every
    `<`, `>` and `&` of the embedded sheet is a JSON escape, and the sheet reads back unchanged."""
    records = make_records()
    outputs = {s: {r["id"]: CRAFTED[i % len(CRAFTED)] for i, r in enumerate(records)} for s in SYSTEMS}
    sheet, _ = build_sheet(records, outputs, "zh", n_prompts=4, seed=3, export_seed=0)
    page = render_page(sheet)
    start = page.index('id="sheet-data">') + len('id="sheet-data">')
    payload = page[start : page.index("</script>", start)]
    assert not set("<>&") & set(payload)
    assert json.loads(payload) == sheet


def ids(outputs, systems=SYSTEMS, model_seed=0):
    records = make_records()
    ordered = {s: outputs[s] for s in systems}
    return build_sheet(records, ordered, "zh", n_prompts=2, seed=3, export_seed=model_seed)


def test_sheet_identity_covers_system_order_run_seed_and_every_text(tmp_path):
    """Class: reordered human_eval.systems or regenerated outputs kept the sheet id, so old
    ratings (and the page's stored progress) landed on other systems' texts."""
    outputs = sheet_outputs(make_records())
    sheet, key = ids(outputs)
    assert ids(outputs)[0]["sheet"] == sheet["sheet"]  # deterministic
    assert ids(outputs, systems=list(reversed(SYSTEMS)))[0]["sheet"] != sheet["sheet"]
    assert ids(outputs, model_seed=1)[0]["sheet"] != sheet["sheet"]
    shown = next(iter(key["prompts"]))
    changed = {s: dict(v) for s, v in outputs.items()}
    changed["dpo"][shown] += " (regenerated)"
    new_sheet, new_key = ids(changed)
    assert new_sheet["sheet"] != sheet["sheet"]
    # a ratings file for the old sheet is refused, naming both ids
    old = write_ratings(tmp_path / "old.json", key, "r1", lambda s, p, c: 3)
    with pytest.raises(InputError) as err:
        read_ratings_file(old, new_key)
    assert sheet["sheet"] in str(err.value) and new_sheet["sheet"] in str(err.value)
