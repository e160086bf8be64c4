"""The decision aid inside the result page: readable on a phone, accessible, and the person's
leaning is recorded."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from support.browser import DESKTOP, LiveServer
from web_pages.journey import SCIATICA_AFTER_FAILED_PHYSIOTHERAPY, answer_all, start, submit

from .pages import serious_accessibility_violations


def test_a_patient_for_whom_surgery_is_an_option_records_their_leaning(
    page: Page, live_server: LiveServer, app: FastAPI, shots: Path
) -> None:
    with TestClient(app) as client:
        link = start(client)
        answer_all(client, link, SCIATICA_AFTER_FAILED_PHYSIOTHERAPY)
        submit(client, link)
    page.goto(f"{live_server.url}/p/{link}/result")
    expect(page.get_by_role("heading", name="Thinking about surgery")).to_be_visible()
    page.screenshot(path=str(shots / "phone-08-result-decision-aid.png"), full_page=True)
    assert serious_accessibility_violations(page) == []
    page.get_by_role("group", name="Which way are you leaning?").get_by_label("I am unsure").check()
    page.get_by_role("button", name="Save my answers").click()
    expect(page.locator("#f-da-leaning-unsure")).to_be_checked()
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(shots / "desktop-08-result-decision-aid.png"), full_page=True)
