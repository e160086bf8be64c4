"""Alerts are raised with what causes them, for the patient's clinic, with one outbox message
per active channel; and only when a clinic can receive them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from spinepath.care import alerts, outbox
from spinepath.pathway.assessment import Level
from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.store.models import Alert, AlertChannel, OutboxMessage, Patient, User

from .world import BASE, care_world, example, store_assessment


def _count(database: Database, model: type[Alert] | type[OutboxMessage]) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _stop(database: Database, patient_id: str, findings: list[str]) -> Alert | None:
    with database.session() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        return alerts.raise_for_emergency_stop(session, patient, findings, BASE)


def test_an_emergency_stop_raises_one_alert_with_a_message_per_channel(
    database: Database,
) -> None:
    world = care_world(database, webhook="https://hooks.example.org/x")
    alert = _stop(database, world.patient_id, ["New bladder problems"])
    assert alert is not None
    assert (alert.kind, alert.level, alert.clinic_id) == (
        "emergency_stop",
        "emergency",
        world.clinic_id,
    )
    with database.session() as session:
        messages = outbox.messages_for_alert(session, alert.id)
    assert sorted(m.channel for m in messages) == ["email", "webhook"]
    assert {m.status for m in messages} == {"pending"}
    assert len({m.idempotency_key for m in messages}) == 2


def test_sending_the_same_stop_again_does_not_page_the_clinic_again(database: Database) -> None:
    world = care_world(database)
    assert _stop(database, world.patient_id, ["A", "B"]) is not None
    assert _stop(database, world.patient_id, ["B", "A"]) is None
    assert _stop(database, world.patient_id, ["A", "C"]) is not None
    assert _count(database, Alert) == 2


def test_a_stop_after_the_first_was_actioned_is_a_new_alert(database: Database) -> None:
    world = care_world(database)
    first = _stop(database, world.patient_id, ["A"])
    assert first is not None
    with database.session() as session:
        user = User(email="gp@clinic.example", password_hash="x", clinic_id=world.clinic_id)
        session.add(user)
        session.flush()
        alert = session.get(Alert, first.id)
        assert alert is not None
        assert alerts.acknowledge(session, alert, user, "actioned")
        assert alert.seen_at is not None
        assert alert.seen_by == user.id
    assert _stop(database, world.patient_id, ["A"]) is not None


def test_a_patient_without_a_clinic_raises_nothing(database: Database) -> None:
    care_world(database)
    with database.session() as session:
        patient, _link = repository.create_patient(session, None)
        assert alerts.raise_for_emergency_stop(session, patient, ["A"], BASE) is None
    assert _count(database, Alert) == 0


def test_a_disabled_channel_gets_no_message(database: Database) -> None:
    world = care_world(database, webhook="https://hooks.example.org/x")
    with database.session() as session:
        for channel in session.scalars(select(AlertChannel)):
            channel.active = channel.kind == "webhook"
    alert = _stop(database, world.patient_id, ["A"])
    assert alert is not None
    with database.session() as session:
        assert [m.channel for m in outbox.messages_for_alert(session, alert.id)] == ["webhook"]


@pytest.mark.parametrize(
    ("example_name", "kind"),
    [
        ("foot-drop-urgent", "urgent_result"),
        ("spinal-infection-fever-urgent", "urgent_result"),
        ("cauda-equina-emergency", "emergency_result"),
        ("major-trauma-emergency", "emergency_result"),
        ("low-back-acute-self-care", None),
        ("osteoporotic-fracture-soon", None),
        ("chronic-low-back-high-risk-routine", None),
    ],
)
def test_results_alert_exactly_at_urgent_and_emergency(
    database: Database, example_name: str, kind: str | None
) -> None:
    world = care_world(database)
    record = store_assessment(database, world.patient_id, example(example_name))
    with database.session() as session:
        patient = session.get(Patient, world.patient_id)
        assert patient is not None
        stored = session.get(type(record), record.id)
        assert stored is not None
        alert = alerts.raise_for_assessment(session, patient, stored, BASE)
        level = Level(stored.level)
    assert (alert.kind if alert else None) == kind
    assert (level in alerts.ALERTING_LEVELS) == (kind is not None)
    if alert is not None:
        assert alert.findings["findings"], "an alert says what it is about"
        assert alert.assessment_id == record.id
