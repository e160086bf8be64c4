"""A patient on a phone: the emergency screen stops the flow; a full questionnaire gives the
right urgency; the emergency screen and a step can be completed with the keyboard alone."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from support.browser import DESKTOP, LiveServer

from .pages import (
    answer_no_everywhere,
    continue_,
    heading,
    serious_accessibility_violations,
    start,
)


def test_a_yes_on_the_emergency_screen_stops_the_flow(
    page: Page, live_server: LiveServer, shots: Path
) -> None:
    start(page, live_server.url)
    page.screenshot(path=str(shots / "phone-01-emergency-screen.png"), full_page=True)
    answer_no_everywhere(page)
    page.get_by_role("group", name="Do you have chest pain").get_by_label("Yes").check()
    continue_(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Call 999 or go to A&E now")
    expect(page.get_by_role("alert")).to_contain_text("Chest pain with back pain")
    page.screenshot(path=str(shots / "phone-02-emergency-stop.png"), full_page=True)
    assert serious_accessibility_violations(page) == []
    # Going on is refused: the next step sends the person back to the emergency page.
    page.goto(page.url.replace("/emergency", "/step/about"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Call 999 or go to A&E now")


def test_a_patient_completes_the_questionnaire_on_a_phone_and_sees_the_right_urgency(
    page: Page, live_server: LiveServer, shots: Path
) -> None:
    # Fever with back pain and no emergency feature: urgent GP / NHS 111 the same day
    # (NHS back-pain advice, NHS-BACK-PAIN; docs/triage.md).
    start(page, live_server.url)
    assert serious_accessibility_violations(page) == []
    answer_no_everywhere(page)
    page.get_by_role("group", name="Do you have a high temperature").get_by_label("Yes").check()
    continue_(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("About you")
    page.get_by_label("How old are you?").fill("15")
    continue_(page, moves=False)
    expect(page.locator(".error-message")).to_contain_text("aged 16 and over")
    page.screenshot(path=str(shots / "phone-03-error-next-to-field.png"), full_page=True)
    assert serious_accessibility_violations(page) == []
    page.get_by_label("How old are you?").fill("47")
    page.get_by_label("Female").check()
    continue_(page)

    page.get_by_label("Lower back").check()
    continue_(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your pain")
    page.get_by_label("How long has this pain lasted?").fill("3")
    page.get_by_label("Unit").select_option("weeks")
    page.get_by_label("How bad has the pain usually been over the last week?").fill("6")
    answer_no_everywhere(page)
    page.screenshot(path=str(shots / "phone-04-pain-step.png"), full_page=True)
    continue_(page)

    # No pain down the legs on the urgent questions: the leg-pain page is skipped.
    expect(page.get_by_role("heading", level=1)).to_have_text("Other warning signs")
    answer_no_everywhere(page)
    continue_(page)
    while heading(page) != "Check your answers":
        answer_no_everywhere(page)
        continue_(page)
    page.screenshot(path=str(shots / "phone-05-review.png"), full_page=True)
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your result")
    expect(page.locator(".urgency-level")).to_have_text("Urgency: Urgent")
    expect(page.get_by_role("heading", name="Get help sooner if things change")).to_be_visible()
    page.screenshot(path=str(shots / "phone-06-result.png"), full_page=True)
    assert serious_accessibility_violations(page) == []
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(shots / "desktop-06-result.png"), full_page=True)


def _tab_to(page: Page, selector: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_emergency_screen_and_a_step_can_be_completed_with_the_keyboard_alone(
    page: Page, live_server: LiveServer, shots: Path
) -> None:
    start(page, live_server.url)
    groups = page.locator("fieldset.radios")
    for index in range(groups.count()):
        first = groups.nth(index).locator("input[type=radio]").first
        _tab_to(page, f"#{first.get_attribute('id')}")
        if first.get_attribute("value") == "yes":
            page.keyboard.press("ArrowDown")  # Yes -> No
        else:
            page.keyboard.press("Space")  # "No injury" is the first choice
    page.screenshot(path=str(shots / "phone-07-keyboard-emergency.png"), full_page=True)
    _tab_to(page, "button[value=next]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("About you")

    _tab_to(page, "input[name=age]")
    page.keyboard.type("52")
    page.keyboard.press("Enter")  # implicit submission: the first button, Continue
    expect(page.get_by_role("heading", level=1)).to_have_text("Where is your pain?")
