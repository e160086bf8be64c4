"""A clinician signs in with the keyboard and sees only their own clinic's patients."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from spinepath.store.db import Database
from support.browser import DESKTOP, LiveServer
from support.intakes import low_back_pain
from support.web import PASSWORD, World, save_assessment

from .pages import serious_accessibility_violations

LOW_BACK = low_back_pain(age=52, weeks=3, intensity=6)


def test_a_clinician_signs_in_and_sees_only_their_clinics_patients(
    page: Page, live_server: LiveServer, world: World, database: Database, shots: Path
) -> None:
    save_assessment(database, world.patient_a.id, {**LOW_BACK, "systemic": {"fever": True}})
    save_assessment(database, world.patient_b.id, {**LOW_BACK, "mimics": {"chest_pain": True}})
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/clinic")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert serious_accessibility_violations(page) == []
    page.get_by_label("E-mail address").fill(world.clinician_a.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Worklist")
    expect(page.get_by_role("link", name="A1")).to_be_visible()
    expect(page.get_by_text("B1")).to_have_count(0)
    page.screenshot(path=str(shots / "desktop-10-worklist.png"), full_page=True)
    assert serious_accessibility_violations(page) == []

    page.get_by_role("link", name="A1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A1")
    page.get_by_label("Add a note").fill("Called back: seen in clinic today.")
    page.get_by_role("button", name="Save note").click()
    expect(page.get_by_text("Called back: seen in clinic today.")).to_be_visible()
    page.screenshot(path=str(shots / "desktop-11-patient.png"), full_page=True)
    assert serious_accessibility_violations(page) == []

    response = page.goto(f"{live_server.url}/clinic/patients/{world.patient_b.id}")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
