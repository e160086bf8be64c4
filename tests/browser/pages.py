"""Helpers that drive the questionnaire the way a person would."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from support.browser import AXE


def start(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.get_by_role("button", name="Start now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("First, some urgent questions")


def answer_no_everywhere(page: Page) -> None:
    """Every yes/no question on the page answered "No", every side question "No", no injury."""
    for value in ("no", "none"):
        for radio in page.locator(f"input[type=radio][value={value}]").all():
            if radio.is_visible():
                radio.check()


def continue_(page: Page, *, moves: bool = True) -> None:
    """Presses Continue; unless the page is expected to show errors, waits for the next page."""
    before = page.url
    page.get_by_role("button", name="Continue").click()
    if moves:
        page.wait_for_url(lambda url: url != before)
        page.wait_for_load_state()


def heading(page: Page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def serious_accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations with serious or critical impact on the current page."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
