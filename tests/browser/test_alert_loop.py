"""The care loop end to end: a patient on a phone stops at the emergency screen; within seconds
the clinic's team inbox (a real SMTP server, STARTTLS) and its paging gateway (a signed webhook)
hear of it; a clinician marks the alert seen, then actioned; the audit log has both."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from spinepath.care import signing
from spinepath.care.worker import Worker
from spinepath.settings import Settings
from spinepath.store.db import Database
from spinepath.store.models import AlertChannel, AuditEvent
from spinepath.web.pages.clinical import stop_reasons
from support.browser import DESKTOP, LiveServer
from support.mail import SmtpServer
from support.web import PASSWORD, World
from support.webhooks import Receiver

from .pages import answer_no_everywhere, continue_, serious_accessibility_violations

SECRET = "paging-gateway-secret"


@pytest.fixture
def running_worker(database: Database, settings: Settings, smtp: SmtpServer) -> Iterator[Worker]:
    configured = settings.model_copy(update={**smtp.settings(), "worker_poll_seconds": 0.2})
    worker = Worker(database, configured, stop_reasons=stop_reasons)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    yield worker
    stop.set()
    thread.join(timeout=10)


def test_an_emergency_stop_reaches_the_clinic_and_is_acknowledged(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    world: World,
    database: Database,
    smtp: SmtpServer,
    receiver: Receiver,
    running_worker: Worker,
    shots: Path,
) -> None:
    with database.session() as session:
        session.add(AlertChannel(clinic_id=world.clinic_a, kind="email", target="team@a.example"))
        session.add(
            AlertChannel(
                clinic_id=world.clinic_a, kind="webhook", target=receiver.url, secret=SECRET
            )
        )

    page.goto(f"{live_server.url}/p/{world.patient_a.link_token}")
    if page.get_by_role("button", name="Start").count():
        page.get_by_role("button", name="Start").click()
    answer_no_everywhere(page)
    page.get_by_role("group", name="Do you have chest pain").get_by_label("Yes").check()
    continue_(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Call 999 or go to A&E now")

    [mail] = smtp.mailbox.wait_for(1, timeout=10)
    assert mail["To"] == "team@a.example"
    assert "emergency" in mail["Subject"].lower()
    [hook] = receiver.wait_for(1, timeout=10)
    signing.verify(SECRET, hook.headers["Spinepath-Signature"], hook.body)
    assert json.loads(hook.body)["alert"]["kind"] == "emergency_stop"

    clinic = browser.new_page(viewport=DESKTOP, bypass_csp=True)
    clinic.goto(live_server.url + "/login")
    clinic.get_by_label("E-mail address").fill(world.clinician_a.email)
    clinic.get_by_label("Password").fill(PASSWORD)
    clinic.keyboard.press("Enter")
    expect(clinic.get_by_role("heading", level=1)).to_have_text("Worklist")
    first_row = clinic.locator("table.worklist tbody tr").first
    expect(first_row).to_contain_text("A1")
    expect(first_row).to_contain_text("New alert")
    clinic.screenshot(path=str(shots / "desktop-20-worklist-alert.png"), full_page=True)
    first_row.get_by_role("link", name="A1").click()
    expect(clinic.get_by_text("Not seen yet.")).to_be_visible()
    clinic.screenshot(path=str(shots / "desktop-21-patient-alert.png"), full_page=True)
    assert serious_accessibility_violations(clinic) == []
    clinic.get_by_role("button", name="Mark as seen").click()
    expect(clinic.get_by_text("not yet actioned")).to_be_visible()
    clinic.get_by_role("button", name="Mark as actioned").click()
    expect(clinic.get_by_role("button", name="Mark as actioned")).to_have_count(0)
    expect(clinic.locator("#alerts")).to_contain_text(f"by {world.clinician_a.email}.")
    expect(clinic.locator("#alerts")).to_contain_text("Actioned ")

    clinic.set_viewport_size({"width": 390, "height": 844})
    clinic.screenshot(path=str(shots / "phone-20-patient-alert.png"), full_page=True)
    clinic.close()

    with database.session() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.patient_id == world.patient_a.id)
        ).all()
    assert "alert_seen" in actions
    assert "alert_actioned" in actions
