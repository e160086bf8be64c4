"""The pages work with JavaScript switched off (htmx only enhances them), and with it on the
strict content security policy blocks nothing the pages need."""

from __future__ import annotations

from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from support.browser import PHONE, LiveServer

from .pages import answer_no_everywhere, continue_, start


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


def test_a_yes_to_a_bladder_question_asks_how_many_days_ago_on_the_next_page_without_javascript(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    onset = "How many days ago did the bladder, bowel, genital or buttock changes begin?"
    try:
        start(page, live_server.url)
        expect(page.get_by_label(onset)).to_have_count(0)
        answer_no_everywhere(page)
        page.get_by_role("group", name="numbness or tingling around your genitals").get_by_label(
            "Yes"
        ).check()
        continue_(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("A few more urgent questions")
        expect(page.get_by_label(onset)).to_be_visible()
        # Only the follow-up that applies: no chest pain or breathlessness, so no sweating.
        expect(page.get_by_role("group", name="sweating")).to_have_count(0)
        page.get_by_label(onset).fill("21")
        continue_(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("About you")
        page.go_back()
        page.reload()
        page.get_by_label(onset).fill("2")
        continue_(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Call 999 or go to A&E now")
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
