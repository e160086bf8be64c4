"""On a 390 px phone, the first screen of the result page and of the decision aid says what
matters: what to do now, the decision, the options and the key numbers. Details are behind
disclosure elements that open without JavaScript.

Page heights are written to ``page-heights.json`` beside the screenshots, for
``bench/bench_page_heights.py`` to report.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from spinepath.decision_aid import build_decision_aid, render_html
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from support.browser import PHONE, LiveServer
from support.files import EXAMPLES_DIR
from web_pages.journey import SCIATICA_AFTER_FAILED_PHYSIOTHERAPY, answer_all, start, submit

FIRST_SCREEN = PHONE["height"]


def _height(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollHeight"))


def _top(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["y"]


def _record(shots: Path, name: str, height: int) -> None:
    path = shots / "page-heights.json"
    heights = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    heights[name] = height
    path.write_text(json.dumps(heights, indent=2, sort_keys=True), encoding="utf-8")


def _aid_page(page: Page, example: str) -> None:
    intake = Intake.model_validate_json((EXAMPLES_DIR / example).read_text(encoding="utf-8"))
    page.set_content(render_html(build_decision_aid(intake, assess(intake))))


def test_the_sciatica_aid_leads_with_the_decision_the_options_and_the_key_numbers(
    page: Page, shots: Path
) -> None:
    _aid_page(page, "sciatica-refer-surgical-opinion.json")
    page.screenshot(path=str(shots / "phone-12-aid-sciatica.png"), full_page=True)
    _record(shots, "decision aid, sciatica", _height(page))
    assert _top(page, "#da-decision") < FIRST_SCREEN
    assert _top(page, "#da-at-a-glance") < FIRST_SCREEN
    # The at-a-glance table names every option and its key numbers within about two screens.
    glance = page.locator("#da-at-a-glance")
    box = glance.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] < 2 * FIRST_SCREEN
    for name in ("non-surgical", "Microdiscectomy"):
        assert name.lower() in glance.inner_text().lower()
    assert "in 100" in glance.inner_text()


def test_the_stenosis_aid_leads_with_the_decision_and_the_options(page: Page, shots: Path) -> None:
    _aid_page(page, "stenosis-refer-surgical-opinion.json")
    page.screenshot(path=str(shots / "phone-13-aid-stenosis.png"), full_page=True)
    _record(shots, "decision aid, stenosis", _height(page))
    assert _top(page, "#da-decision") < FIRST_SCREEN
    assert _top(page, "#da-at-a-glance") < FIRST_SCREEN


def test_details_open_without_javascript(browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    _aid_page(page, "sciatica-refer-surgical-opinion.json")
    details = page.locator("details.da-more").first
    assert details.get_attribute("open") is None
    details.locator("summary").click()
    assert details.get_attribute("open") is not None
    context.close()


def test_the_result_page_leads_with_what_to_do_now(
    page: Page, live_server: LiveServer, app: FastAPI, shots: Path
) -> None:
    with TestClient(app) as client:
        link = start(client)
        answer_all(client, link, SCIATICA_AFTER_FAILED_PHYSIOTHERAPY)
        submit(client, link)
    page.goto(f"{live_server.url}/p/{link}/result")
    page.screenshot(path=str(shots / "phone-14-result.png"), full_page=True)
    _record(shots, "result page, sciatica with decision aid", _height(page))
    assert _top(page, "#what-to-do-now") < FIRST_SCREEN
    assert _top(page, "#when-to-get-help") < FIRST_SCREEN * 2
    text = page.locator("main").inner_text()
    # Citations live in the references list, never inside the patient's sentences.
    for internal_id in ("NICE-NG59", "PEUL-2007", "SPORT-IDH"):
        assert internal_id not in text, internal_id
