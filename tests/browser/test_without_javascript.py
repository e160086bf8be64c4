"""The pages work with JavaScript switched off (htmx only enhances them), and with it on the
strict content security policy blocks nothing the pages need."""

from __future__ import annotations

from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from browser.conftest import PHONE, LiveServer
from browser.pages import answer_no_everywhere, continue_, start


def test_the_emergency_screen_and_a_step_work_without_javascript(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    try:
        start(page, live_server.url)
        answer_no_everywhere(page)
        continue_(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("About you")
        page.get_by_label("How old are you?").fill("many")
        continue_(page, moves=False)
        expect(page.locator("#f-age-error")).to_contain_text("whole number")
        page.get_by_label("How old are you?").fill("64")
        continue_(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Where is your pain?")
    finally:
        context.close()


def test_htmx_loads_and_the_policy_blocks_nothing(page: Page, live_server: LiveServer) -> None:
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    start(page, live_server.url)
    assert page.evaluate("typeof window.htmx") == "object"
    answer_no_everywhere(page)
    continue_(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("About you")
    assert errors == []
