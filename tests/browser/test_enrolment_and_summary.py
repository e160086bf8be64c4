"""The clinician's summary fits one phone screen; the enrol page's QR code and the join landing
work on a phone and without JavaScript."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from spinepath.store import enrolment
from spinepath.store.db import Database
from support.browser import DESKTOP, PHONE, LiveServer
from support.intakes import data, region
from support.web import PASSWORD, World, save_assessment

from .pages import serious_accessibility_violations

SCIATICA = data(
    age=47,
    sex="male",
    regions=[region("low_back", duration_weeks=12, intensity=7)],
    radiation={"leg": "left", "leg_below_knee": True, "leg_pain_worse_than_back": True},
    neurology={"leg_numbness_or_tingling": "left", "leg_weakness": "none"},
    systemic={"weight_loss": None},
    treatments_tried=[
        {"type": "physiotherapy", "weeks": 8, "response": "none"},
        {"type": "nsaid", "weeks": 6, "response": "partial"},
    ],
    imaging=[{"modality": "mri", "finding": "disc_herniation", "level": "L5-S1", "side": "left"}],
    priorities=["fast_relief", "return_to_work"],
    what_matters_note="I drive a forklift and need to get back to work.",
)


def sign_in(page: Page, url: str, email: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Worklist")


def test_the_summary_of_the_answers_fits_one_phone_screen(
    page: Page, live_server: LiveServer, world: World, database: Database, shots: Path
) -> None:
    save_assessment(database, world.patient_a.id, SCIATICA)
    sign_in(page, live_server.url, world.clinician_a.email)
    page.goto(f"{live_server.url}/clinic/patients/{world.patient_a.id}")
    summary = page.locator("#summary")
    expect(summary).to_be_visible()
    box = summary.bounding_box()
    assert box is not None
    assert box["height"] <= PHONE["height"], box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(shots / "phone-20-clinician-summary.png"))
    page.screenshot(path=str(shots / "phone-21-clinician-patient-full.png"), full_page=True)
    assert serious_accessibility_violations(page) == []
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(shots / "desktop-20-clinician-patient.png"), full_page=True)


def test_the_enrol_page_shows_a_scannable_code(
    page: Page, live_server: LiveServer, world: World, shots: Path
) -> None:
    sign_in(page, live_server.url, world.clinician_a.email)
    page.goto(live_server.url + "/clinic/enrol")
    page.get_by_role("button", name="Make a join code").click()
    expect(
        page.get_by_role("img", name="QR code that opens the clinic's join page")
    ).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(shots / "phone-22-enrol.png"), full_page=True)
    assert serious_accessibility_violations(page) == []
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(shots / "desktop-22-enrol.png"), full_page=True)


def test_a_patient_joins_a_clinic_without_javascript(
    browser: Browser, live_server: LiveServer, world: World, database: Database, shots: Path
) -> None:
    with database.session() as session:
        code = enrolment.new_join_code(session, world.clinic_a, None).code
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/join/{code}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your back or neck pain")
    page.screenshot(path=str(shots / "phone-23-join-landing.png"), full_page=True)
    page.get_by_role("button", name="Start now for Clinic A").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("First, some urgent questions")
    expect(
        page.get_by_text("Your answers will be seen by the care team at Clinic A.")
    ).to_be_visible()
    page.goto(live_server.url + "/join")
    page.get_by_label("Clinic code").fill("wxyz-2345")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("We could not find a clinic with that code").first).to_be_visible()
    page.screenshot(path=str(shots / "phone-24-join-wrong-code.png"), full_page=True)
    context.close()
