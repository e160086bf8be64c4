"""Follow-up reminders, run forward in time: one when a visit falls due, a second a week later
if it is still not done, none once it is done or the patient has stopped them."""

from __future__ import annotations

import datetime as dt

import time_machine
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from spinepath.care import reminders
from spinepath.care.worker import Worker
from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.store.models import AuditEvent, OutboxMessage, Patient
from support.mail import SmtpServer

from .world import BASE, care_world, example, store_assessment

T0 = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)
PATIENT_EMAIL = "patient@example.org"


def _setup(database: Database, settings: Settings, *, consent: bool = True) -> tuple[str, str]:
    world = care_world(database, email=None)
    store_assessment(database, world.patient_id, example("low-back-acute-self-care"))
    link = f"{BASE}/p/{world.link}"
    if consent:
        with database.session() as session:
            patient = session.get(Patient, world.patient_id)
            assert patient is not None
            reminders.save_contact(session, settings, patient, PATIENT_EMAIL, link)
    return world.patient_id, link


def _answer_everything_due(database: Database, settings: Settings, patient_id: str) -> None:
    from spinepath.care import followups
    from spinepath.instruments.scoring import score

    with database.session() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        visit = followups.due_visit(session, settings, patient)
        assert visit is not None
        for code in visit.codes:
            answers = {"intensity": 3} if code.startswith("nrs_") else {"change": 2}
            result = score(code, answers)
            assert result.valid, (code, result.reason)
            repository.record_response(
                session,
                patient,
                instrument=code,
                answers=answers,
                score=result.model_dump(mode="json"),
                taken_on=dt.datetime.now(dt.UTC).date(),
            )


def test_reminders_fall_due_repeat_once_and_stop_when_completed(
    database: Database, settings: Settings, smtp: SmtpServer, client: TestClient
) -> None:
    configured = settings.model_copy(update=smtp.settings())
    worker = Worker(database, configured)
    with time_machine.travel(T0, tick=False) as traveller:
        patient_id, link = _setup(database, configured)
        assert worker.run_once().reminders_queued == 0, "nothing is due on the day itself"
        traveller.shift(dt.timedelta(days=27))
        assert worker.run_once().reminders_queued == 0
        traveller.shift(dt.timedelta(days=1))  # 6 weeks less the 14-day window
        stats = worker.run_once()
        assert (stats.reminders_queued, stats.sent) == (1, 1)
        [mail] = smtp.mailbox.wait_for(1)
        assert mail["To"] == PATIENT_EMAIL
        assert link in mail.get_content()
        # The link in the e-mail opens the patient's follow-up questionnaires.
        opened = client.get(link.removeprefix(BASE) + "/result")
        assert opened.status_code == 200
        assert (
            "Back pain over the last week"
            in client.get(link.removeprefix(BASE) + "/follow-up/nrs_back").text
        )
        assert "Riverside Spine Clinic" in mail.get_content()
        assert "999" in mail.get_content(), "the safety net comes with every reminder"
        assert worker.run_once().reminders_queued == 0, "one reminder per visit, not per round"

        traveller.shift(dt.timedelta(days=6))
        assert worker.run_once().reminders_queued == 0
        traveller.shift(dt.timedelta(days=1))
        assert worker.run_once().sent == 1, "a second reminder a week later"
        traveller.shift(dt.timedelta(days=7))
        assert worker.run_once().reminders_queued == 0, "never a third"

        traveller.shift(dt.timedelta(days=35))  # the 12-week visit's window opens
        assert worker.run_once().reminders_queued == 1
        _answer_everything_due(database, configured, patient_id)
        traveller.shift(dt.timedelta(days=7))
        assert worker.run_once().reminders_queued == 0, "completed: no second reminder"
    assert len(smtp.mailbox.messages) == 3
    with database.session() as session:
        sent = session.scalars(select(AuditEvent).where(AuditEvent.action == "reminder_sent")).all()
        assert [e.patient_id for e in sent] == [patient_id] * 3


def test_a_reminder_completed_before_it_is_sent_is_skipped(
    database: Database, settings: Settings, smtp: SmtpServer
) -> None:
    configured = settings.model_copy(update=smtp.settings())
    with time_machine.travel(T0 + dt.timedelta(days=28), tick=False):
        with time_machine.travel(T0, tick=False):
            patient_id, _link = _setup(database, configured)
        without_mail = Worker(database, settings)  # queues, cannot send e-mail
        assert without_mail.run_once().reminders_queued == 1
        _answer_everything_due(database, configured, patient_id)
        # The same worker, now with a mail server (on SQLite it still holds the outbox lease).
        stats = Worker(database, configured, worker_id=without_mail.worker_id).run_once()
        assert (stats.sent, stats.skipped) == (0, 1)
    assert smtp.mailbox.messages == []


def test_stopping_reminders_stops_them(
    database: Database, settings: Settings, smtp: SmtpServer
) -> None:
    configured = settings.model_copy(update=smtp.settings())
    with time_machine.travel(T0, tick=False) as traveller:
        patient_id, _link = _setup(database, configured)
        with database.session() as session:
            patient = session.get(Patient, patient_id)
            assert patient is not None
            assert reminders.stop(session, patient)
            assert not reminders.stop(session, patient)
        traveller.shift(dt.timedelta(days=30))
        assert Worker(database, configured).run_once().reminders_queued == 0
    assert smtp.mailbox.messages == []


def test_no_consent_no_reminder(database: Database, settings: Settings) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        _setup(database, settings, consent=False)
        traveller.shift(dt.timedelta(days=30))
        assert Worker(database, settings).run_once().reminders_queued == 0
    with database.session() as session:
        assert session.scalars(select(OutboxMessage)).all() == []


def test_a_changed_secret_key_fails_the_reminder_instead_of_sending_a_wrong_link(
    database: Database, settings: Settings, smtp: SmtpServer
) -> None:
    configured = settings.model_copy(update=smtp.settings())
    with time_machine.travel(T0 + dt.timedelta(days=28), tick=False):
        with time_machine.travel(T0, tick=False):
            _setup(database, configured)
        rotated = configured.model_copy(update={"secret_key": SecretStr("n" * 40)})
        stats = Worker(database, rotated).run_once()
    assert (stats.sent, stats.retried) == (0, 1)
    assert "secret key" in stats.errors[0]
