"""The report and the comparison of REAL runs, opened in headless Chromium via Playwright.

Uses the session fixture `smoke_results` (tests/conftest.py: a real `mnistbench run --profile
smoke`) plus any committed reports/examples/*/results.json. Chromium is Debian's /usr/bin/chromium
(never `playwright install`), or $MNISTBENCH_CHROMIUM. Without Chromium or Playwright the tests
skip, saying how to enable them, except under CI (`CI` set, as .ci/run does), where they fail:
CI installs both, so a skip there would hide a broken setup.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from reports.compare import write_compare
from reports.report import write_report

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("MNISTBENCH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
REPORT_SECTIONS = ["headline", "machine", "rnn", "cnn", "training", "failures", "method"]
COMPARE_SECTIONS = ["summary", "machines", "cases", "devices", "missing", "training"]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> None:
    """Skip (a developer's machine) or fail (CI, which must run these tests)."""
    if _in_ci():
        pytest.fail(f"{reason} (CI is set: the browser tests must run there)")
    pytest.skip(reason)


@pytest.fixture(scope="session")  # session: decided before the session-scoped smoke run
def browser():
    if not CHROMIUM.is_file():
        _unavailable(f"Chromium is not at {CHROMIUM}: apt-get install chromium, or set "
                     "MNISTBENCH_CHROMIUM to a Chromium binary, to run the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        _unavailable(f"Playwright is not importable ({err}): pip install -c constraints.txt "
                     "-e '.[test]' to run the browser tests")

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open(browser, html: Path, screenshot: Path):
    """Load `html` from file://, recording console errors, page errors and every request."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems, requests = [], []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(html.resolve().as_uri(), wait_until="load")
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    assert problems == []
    assert requests and all(url.startswith("file:") for url in requests), requests
    return page


def _assert_sections(page, section_ids: list[str]) -> None:
    for section_id in section_ids:
        assert page.locator(f"section#{section_id} > h2").is_visible(), section_id


def _real_results(smoke_results: Path) -> list[dict]:
    examples = sorted((ROOT / "reports" / "examples").glob("*/results.json"))
    return [json.loads(p.read_text(encoding="utf-8")) for p in [smoke_results, *examples]]


def test_report_of_a_real_run(browser, smoke_results, tmp_path):
    results = json.loads(smoke_results.read_text(encoding="utf-8"))
    html = write_report(smoke_results, tmp_path / "report.html")[0]
    page = _open(browser, html, tmp_path / "report.png")
    _assert_sections(page, REPORT_SECTIONS)
    text = page.inner_text("body")
    assert results["machine"]["host_processor_model_name"] in text
    assert page.locator("section#machine").is_visible()
    for case in results["benchmarks"]:
        assert case["implementation"] in text, case["name"]
    assert page.locator("section#rnn svg title").count() >= 1
    page.close()


def test_comparison_of_real_runs(browser, smoke_results, tmp_path):
    # The smoke run against itself (copied, so two files) and any committed example runs.
    twin = tmp_path / "twin" / "results.json"
    twin.parent.mkdir()
    shutil.copy(smoke_results, twin)
    examples = sorted((ROOT / "reports" / "examples").glob("*/results.json"))
    html = tmp_path / "compare.html"
    code = write_compare([smoke_results, twin, *examples], html, fail_on_regression=True)
    if not examples:  # identical samples can never differ significantly
        assert code == 0
    page = _open(browser, html, tmp_path / "compare.png")
    _assert_sections(page, COMPARE_SECTIONS)
    text = page.inner_text("body")
    for results in _real_results(smoke_results):
        assert results["machine"]["host_processor_model_name"] in text
    smoke = json.loads(smoke_results.read_text(encoding="utf-8"))
    ran = [c for c in smoke["benchmarks"] if c["status"] == "ok"]
    for case in ran:
        assert case["name"] in text, case["name"]
    page.close()


def test_missing_browser_skips_locally_but_fails_under_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        _unavailable("apt-get install chromium")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        _unavailable("no chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no chromium .*CI is set"):
        _unavailable("no chromium")
