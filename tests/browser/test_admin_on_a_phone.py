"""An administrator works the administration pages on a phone with JavaScript off: disables an
account and installs a questionnaire wording file after its preview. Nothing is wider than the
screen, and (with JavaScript on, which axe needs) axe finds no serious accessibility problem."""

from __future__ import annotations

from pathlib import Path

import yaml
from playwright.sync_api import Browser, Page, expect

from spinepath.settings import Settings
from support.browser import PHONE, LiveServer
from support.web import PASSWORD, World
from web_pages.wording import placeholder_wording

from .pages import serious_accessibility_violations


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_admin_manages_accounts_and_wording_on_a_phone_without_javascript(
    browser: Browser, live_server: LiveServer, world: World, settings: Settings, tmp_path: Path
) -> None:
    upload = tmp_path / "odi.yaml"
    upload.write_text(yaml.safe_dump(placeholder_wording("odi")), encoding="utf-8")
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    try:
        _sign_in(page, live_server.url, world.admin.email)
        page.get_by_role("link", name="Administration").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
        _fits(page)

        page.get_by_role("link", name="Users").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Users")
        _fits(page)
        page.get_by_role("link", name=world.clinician_a.email).click()
        _fits(page)
        page.get_by_role("button", name="Disable the account and end its sessions").click()
        expect(page.locator("#account-state")).to_have_text("disabled")

        page.goto(live_server.url + "/admin/wording")
        _fits(page)
        page.get_by_label("Wording file").set_input_files(str(upload))
        page.get_by_role("button", name="Check and preview").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Preview: PLACEHOLDER ODI")
        _fits(page)
        page.get_by_role("button", name="Enable this wording").click()
        expect(page.locator("#wording-odi")).to_contain_text("site wording installed")
        assert (settings.data_dir / "wording" / "odi.yaml").is_file()
    finally:
        context.close()


def test_the_admin_pages_have_no_serious_accessibility_problem(
    page: Page, live_server: LiveServer, world: World
) -> None:
    _sign_in(page, live_server.url, world.admin.email)
    expect(page.get_by_role("link", name="Administration")).to_be_visible()
    for path in (
        "/admin",
        "/admin/users",
        f"/admin/users/{world.clinician_a.id}",
        "/admin/clinics",
        "/admin/tokens",
        "/admin/wording",
    ):
        page.goto(live_server.url + path)
        _fits(page)
        assert serious_accessibility_violations(page) == [], path


def test_an_admin_adds_a_webhook_for_alerts_on_a_phone_without_javascript(
    browser: Browser, live_server: LiveServer, world: World, shots: Path
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    try:
        _sign_in(page, live_server.url, world.admin.email)
        page.goto(live_server.url + "/admin/alerts")
        expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
        page.get_by_label("Kind").select_option("webhook")
        page.get_by_label("Address").fill("http://pager.example.org/in")
        page.locator("#f-clinic").select_option(label="Clinic A")
        page.get_by_role("button", name="Add the channel").click()
        expect(page.get_by_role("alert")).to_contain_text("https://")
        _fits(page)
        page.get_by_label("Address").fill("https://pager.example.org/in-" + "x" * 60)
        page.get_by_role("button", name="Add the channel").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Webhook added")
        _fits(page)
        page.get_by_role("link", name="Back to alerts").click()
        expect(page.locator("#channels + .table-wrap")).to_contain_text("Clinic A")
        _fits(page)
        page.screenshot(path=str(shots / "phone-25-admin-alerts.png"), full_page=True)
    finally:
        context.close()
