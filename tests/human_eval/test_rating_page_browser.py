"""The exported rating page in a real browser (headless Chromium through selenium): keyboard and
mouse rating, progress surviving a reload, and an exported file the aggregation accepts."""

import json
import shutil
import time

import pytest

from polyalign.human_eval import CRITERIA
from polyalign.human_eval.aggregate import summarize_sheet
from polyalign.human_eval.export import render_page

CHROMEDRIVER = shutil.which("chromedriver")
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')"
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMEDRIVER and BROWSER),
        reason="no chromium + chromedriver on PATH (Debian: apt-get install chromium chromium-driver)",
    ),
]
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402


@pytest.fixture
def browser(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    driver.downloads = downloads
    yield driver
    driver.quit()


def selected(driver) -> dict:
    return {
        row.get_attribute("data-criterion"): int(b.text)
        for row in driver.find_elements(By.CSS_SELECTOR, ".criterion")
        for b in row.find_elements(By.CSS_SELECTOR, "button.selected")
    }


def keys(driver, *sequence):
    body = driver.find_element(By.TAG_NAME, "body")
    for k in sequence:
        body.send_keys(k)


def item_id(driver) -> str:
    return driver.find_element(By.ID, "item-id").get_attribute("textContent")


def reload_until(driver, restored, timeout=10.0):
    """Reload until the page shows the restored state. Chromium hands localStorage writes to its
    storage process asynchronously, so a reload issued milliseconds after the last key press can
    read the state from before it (seen once in CI under load); a reload of a stale copy writes
    nothing, so reloading again is safe. A page that never persists still fails here."""
    deadline = time.time() + timeout
    while True:
        driver.refresh()
        if restored():
            return
        if time.time() > deadline:
            raise AssertionError(
                f"after {timeout:.0f} s of reloads the page still shows item {item_id(driver)}"
            )
        time.sleep(0.5)


def test_rate_reload_export_and_aggregate(browser, tmp_path, sheet_and_key):
    sheet, key = sheet_and_key
    page = tmp_path / "rating_page.html"
    page.write_text(render_page(sheet), encoding="utf-8")
    browser.get(page.as_uri())
    assert "</script>" in browser.find_element(By.ID, "response").text  # shown as text, not markup
    browser.find_element(By.ID, "rater").send_keys("rater-1")

    # item 1 by keyboard: five scores advance criterion by criterion
    keys(browser, "4", "3", "5", "2", "4")
    assert selected(browser) == dict(zip(CRITERIA, [4, 3, 5, 2, 4]))
    # item 2: mouse for the first criterion, keyboard for the rest, arrow keys to move
    keys(browser, Keys.ARROW_RIGHT)
    assert item_id(browser) == sheet["items"][1]["item"]
    browser.find_element(By.CSS_SELECTOR, '.criterion[data-criterion="task"] button[data-score="1"]').click()
    keys(browser, Keys.ARROW_DOWN, "2", "3", "4", "5")
    assert selected(browser) == dict(zip(CRITERIA, [1, 2, 3, 4, 5]))

    # progress survives a reload (localStorage), on the item the rater was at
    reload_until(browser, lambda: item_id(browser) == sheet["items"][1]["item"])
    assert selected(browser) == dict(zip(CRITERIA, [1, 2, 3, 4, 5]))
    keys(browser, Keys.ARROW_LEFT)
    assert selected(browser) == dict(zip(CRITERIA, [4, 3, 5, 2, 4]))
    assert browser.find_element(By.ID, "rater").get_attribute("value") == "rater-1"

    # the remaining items by keyboard, then export through the page's own download
    keys(browser, Keys.ARROW_RIGHT)
    for _ in sheet["items"][2:]:
        keys(browser, Keys.ARROW_RIGHT, "3", "3", "3", "3", "3")
    keys(browser, "e")
    deadline = time.time() + 20
    while time.time() < deadline and not list(browser.downloads.glob("ratings_*.json")):
        time.sleep(0.2)
    exported = list(browser.downloads.glob("ratings_*.json"))
    assert len(exported) == 1, "the export did not download a ratings file"
    data = json.loads(exported[0].read_text())
    assert data["rater"] == "rater-1" and data["sheet"] == sheet["sheet"]

    entered = {item["item"]: [3] * 5 for item in sheet["items"]}
    entered[sheet["items"][0]["item"]] = [4, 3, 5, 2, 4]
    entered[sheet["items"][1]["item"]] = [1, 2, 3, 4, 5]
    assert data["ratings"] == {i: dict(zip(CRITERIA, v)) for i, v in entered.items()}

    summary = summarize_sheet(key, exported, n_resamples=1000, seed=0)
    assert summary["raters"] == ["rater-1"] and summary["n_prompts"] == 2
    for system, result in summary["systems"].items():  # unblinded means of exactly what was entered
        mine = [v for i, v in entered.items() if key["items"][i]["system"] == system]
        for k, c in enumerate(CRITERIA):
            assert result[c]["point"] == pytest.approx(sum(v[k] for v in mine) / len(mine))
