"""A clinician opens spinepath from the simulated EHR's chart: SMART EHR launch end to end in
Chromium, redirects and all, on a phone, with and without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from spinepath.settings import Settings, SmartEhr
from spinepath.store.db import Database
from spinepath.store.models import Patient
from support.browser import PHONE, LiveServer
from support.ehr_sim import CLIENT_ID, SimulatedEhr, matching_answers, running_ehr
from support.web import World, create_test_app, save_assessment

from .pages import serious_accessibility_violations


@pytest.fixture
def ehr() -> Iterator[SimulatedEhr]:
    with running_ehr() as found:
        yield found


@pytest.fixture
def spinepath(ehr: SimulatedEhr, settings: Settings, world: World) -> Iterator[LiveServer]:
    """spinepath live, trusting the simulated EHR for clinic A, and registered with it."""
    smart = settings.model_copy(
        update={"smart_ehrs": [SmartEhr(iss=ehr.fhir_base, client_id=CLIENT_ID, clinic="Clinic A")]}
    )
    server = LiveServer(create_test_app(smart))
    ehr.register(server.url)
    server.start()
    yield server
    server.stop()


def _link(database: Database, world: World) -> None:
    with database.session() as session:
        patient = session.get(Patient, world.patient_a.id)
        assert patient is not None
        patient.reference = "ehr-123"
    save_assessment(database, world.patient_a.id, matching_answers())


def test_a_clinician_launches_spinepath_from_the_ehr_and_sees_the_patient_and_their_record(
    page: Page,
    ehr: SimulatedEhr,
    spinepath: LiveServer,
    database: Database,
    world: World,
    shots: Path,
) -> None:
    _link(database, world)
    page.set_viewport_size(PHONE)
    page.goto(ehr.url + "/")
    page.get_by_role("link", name="Launch spinepath for Ana Example").click()
    page.wait_for_url(f"{spinepath.url}/smart/workspace/*")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana EXAMPLE")
    expect(page.get_by_text("Urgency:")).to_be_visible()
    expect(page.get_by_role("heading", name="From the record")).to_be_visible()
    expect(page.get_by_text("Condition/dm-1")).to_be_visible()
    expect(page.get_by_text("MedicationRequest/pred-1")).to_be_visible()
    expect(page.get_by_text("Check this is the same person")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(shots / "smart-workspace.png"), full_page=True)
    assert serious_accessibility_violations(page) == []
    # The launch opens this patient only: the clinic's pages still ask for a sign-in.
    page.goto(f"{spinepath.url}/clinic/patients/{world.patient_b.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_the_launch_and_an_invitation_work_without_javascript(
    browser: Browser, ehr: SimulatedEhr, spinepath: LiveServer, shots: Path
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(ehr.url + "/")
        page.get_by_role("link", name="Launch spinepath for Bram Sample").click()
        page.wait_for_url(f"{spinepath.url}/smart/workspace/*")
        expect(page.get_by_role("heading", level=1)).to_have_text("Bram SAMPLE")
        page.get_by_role("button", name="Create a questionnaire link for this patient").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Questionnaire link created")
        expect(page.locator(".patient-link")).to_contain_text("/p/spl_")
        page.screenshot(path=str(shots / "smart-invited.png"), full_page=True)
    finally:
        context.close()
