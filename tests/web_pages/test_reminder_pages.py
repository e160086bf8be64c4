"""Patients turn follow-up reminders on (address + consent) and off, from their private link."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from spinepath.care import reminders, sealing
from spinepath.settings import Settings
from spinepath.store.db import Database
from spinepath.store.models import AuditEvent, ReminderContact
from support.web import World


def _contact(database: Database) -> ReminderContact | None:
    with database.session() as session:
        return session.scalars(select(ReminderContact)).one_or_none()


def test_reminders_need_an_address_and_consent(
    client: TestClient, world: World, database: Database
) -> None:
    url = f"/p/{world.patient_a.link_token}/reminders"
    assert reminders.CONSENT_TEXT in client.get(url).text
    cases = [
        ({"email": "", "consent": "yes"}, "Enter your e-mail address."),
        ({"email": "x@", "consent": "yes"}, "Enter an e-mail address like"),
        ({"email": "pat@example.org"}, "Tick the box to agree"),
        ({"email": "a" * 400 + "@example.org", "consent": "yes"}, "characters or fewer"),
    ]
    for data, message in cases:
        response = client.post(url, data=data)
        assert response.status_code == 422, data
        assert message in response.text
    assert _contact(database) is None


def test_turning_reminders_on_keeps_consent_and_a_sealed_link_then_off(
    client: TestClient, world: World, database: Database, settings: Settings
) -> None:
    url = f"/p/{world.patient_a.link_token}/reminders"
    response = client.post(url, data={"email": " Pat@Example.org ", "consent": "yes"})
    assert response.status_code == 200
    assert "Reminders are on" in response.text
    contact = _contact(database)
    assert contact is not None
    assert contact.email == "Pat@example.org"
    assert contact.consent_text == reminders.CONSENT_TEXT
    assert world.patient_a.link_token not in contact.sealed_link
    opened = sealing.unseal(settings.secret_key_value(), contact.sealed_link, contact.patient_id)
    assert opened.endswith(f"/p/{world.patient_a.link_token}")
    export = client.get(f"/p/{world.patient_a.link_token}/data.json").json()
    assert export["reminders"][0]["email"] == "Pat@example.org"

    assert "Turn on reminders" in client.post(f"{url}/stop").text
    stopped = _contact(database)
    assert stopped is not None
    assert stopped.stopped_at is not None
    with database.session() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.patient_id == world.patient_a.id)
        ).all()
    assert "reminders_on" in actions
    assert "reminders_off" in actions


def test_another_link_cannot_see_or_change_reminders(client: TestClient) -> None:
    assert client.get("/p/spl_not-a-real-link/reminders").status_code == 404
    stop = client.post("/p/spl_not-a-real-link/reminders/stop", follow_redirects=False)
    assert stop.status_code == 404
