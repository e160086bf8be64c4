"""The worker delivers the outbox to a real SMTP server (STARTTLS) and a webhook receiver:
signed, idempotent, retried with backoff, never holding a message two workers could both send."""

from __future__ import annotations

import datetime as dt
import json
import threading

import time_machine
from sqlalchemy import select

from spinepath.care import alerts, outbox, signing
from spinepath.care.worker import Worker
from spinepath.settings import Settings
from spinepath.store.db import Database
from spinepath.store.models import OutboxMessage, Patient
from support.mail import SmtpServer
from support.webhooks import Receiver

from .world import BASE, WEBHOOK_SECRET, care_world


def _stop(database: Database, patient_id: str) -> int:
    with database.session() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        alert = alerts.raise_for_emergency_stop(session, patient, ["New bladder problems"], BASE)
        assert alert is not None
        return alert.id


def _statuses(database: Database) -> list[tuple[str, str, int]]:
    with database.session() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(m.channel, m.status, m.attempts) for m in rows]


def _with(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update=changes)


def test_an_alert_arrives_by_email_and_signed_webhook(
    database: Database, settings: Settings, smtp: SmtpServer, receiver: Receiver
) -> None:
    world = care_world(database, webhook=receiver.url)
    alert_id = _stop(database, world.patient_id)
    stats = Worker(database, _with(settings, **smtp.settings())).run_once()
    assert (stats.sent, stats.retried, stats.failed) == (2, 0, 0)

    [mail] = smtp.mailbox.wait_for(1)
    assert mail["To"] == "team@clinic.example"
    assert mail["Subject"].startswith("[spinepath] Emergency")
    text = mail.get_content()
    assert f"{BASE}/clinic/patients/{world.patient_id}" in text
    # No patient detail unless the clinic asked for it: neither its label nor the findings.
    assert "JB-0042" not in text
    assert "bladder" not in text.lower()

    [hook] = receiver.wait_for(1)
    headers = {k.lower(): v for k, v in hook.headers.items()}
    signing.verify(WEBHOOK_SECRET, headers["spinepath-signature"], hook.body)
    body = json.loads(hook.body)
    assert body["id"] == headers["idempotency-key"]
    assert body["alert"]["id"] == alert_id
    assert body["alert"]["kind"] == "emergency_stop"
    assert "patient_reference" not in body["alert"]
    assert mail["X-Spinepath-Idempotency-Key"] != body["id"]

    assert _statuses(database) == [("email", "sent", 1), ("webhook", "sent", 1)]
    assert Worker(database, _with(settings, **smtp.settings())).run_once().sent == 0


def test_the_clinic_can_ask_for_its_own_label_in_messages(
    database: Database, settings: Settings, smtp: SmtpServer, receiver: Receiver
) -> None:
    world = care_world(database, webhook=receiver.url, include_reference=True)
    _stop(database, world.patient_id)
    Worker(database, _with(settings, **smtp.settings())).run_once()
    assert "JB-0042" in smtp.mailbox.wait_for(1)[0].get_content()
    assert json.loads(receiver.wait_for(1)[0].body)["alert"]["patient_reference"] == "JB-0042"


def test_without_an_smtp_server_emails_wait_and_webhooks_go(
    database: Database, settings: Settings, receiver: Receiver
) -> None:
    world = care_world(database, webhook=receiver.url)
    _stop(database, world.patient_id)
    Worker(database, settings).run_once()
    assert _statuses(database) == [("email", "pending", 0), ("webhook", "sent", 1)]


def test_a_failing_receiver_is_retried_with_backoff_then_given_up(
    database: Database, settings: Settings, receiver: Receiver
) -> None:
    world = care_world(database, email=None, webhook=receiver.url)
    _stop(database, world.patient_id)
    receiver.status = 500
    start = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
    worker = Worker(database, _with(settings, delivery_max_attempts=3))
    with time_machine.travel(start, tick=False) as traveller:
        assert worker.run_once().retried == 1
        assert worker.run_once().retried == 0, "not before the backoff has passed"
        traveller.shift(dt.timedelta(seconds=31))
        assert worker.run_once().retried == 1
        traveller.shift(dt.timedelta(seconds=59))
        assert worker.run_once().retried == 0
        traveller.shift(dt.timedelta(seconds=2))
        assert worker.run_once().failed == 1
    assert _statuses(database) == [("webhook", "failed", 3)]
    with database.session() as session:
        message = session.scalars(select(OutboxMessage)).one()
        assert message.last_error == "webhook answered HTTP 500"
    assert len(receiver.deliveries) == 3


def test_a_receiver_that_recovers_gets_the_message(
    database: Database, settings: Settings, receiver: Receiver
) -> None:
    world = care_world(database, email=None, webhook=receiver.url)
    _stop(database, world.patient_id)
    receiver.status = 503
    worker = Worker(database, settings)
    with time_machine.travel(dt.datetime(2027, 1, 4, tzinfo=dt.UTC), tick=False) as traveller:
        worker.run_once()
        receiver.status = 200
        traveller.shift(dt.timedelta(minutes=1))
        assert worker.run_once().sent == 1
    assert _statuses(database) == [("webhook", "sent", 2)]


def test_a_claim_held_by_a_dead_worker_lapses_and_another_sends_it(
    database: Database, settings: Settings, receiver: Receiver
) -> None:
    world = care_world(database, email=None, webhook=receiver.url)
    _stop(database, world.patient_id)
    with time_machine.travel(dt.datetime(2027, 1, 4, tzinfo=dt.UTC), tick=False) as traveller:
        with database.session() as session:
            # A worker claims the message and dies before sending it.
            claimed = outbox.claim(
                session, worker_id="dead", claim_seconds=120, limit=10, channels=("webhook",)
            )
            assert len(claimed) == 1
            if database.is_sqlite:
                from spinepath.care import leases

                assert leases.acquire(session, "outbox", "dead", 120)
        survivor = Worker(database, settings, worker_id="survivor")
        assert survivor.run_once().sent == 0
        traveller.shift(dt.timedelta(seconds=121))
        assert survivor.run_once().sent == 1
    assert _statuses(database) == [("webhook", "sent", 2)]
    assert len(receiver.wait_for(1)) == 1


def test_concurrent_workers_never_claim_the_same_message(
    database: Database, settings: Settings
) -> None:
    """PostgreSQL: row locks share the queue; SQLite: the outbox lease lets one worker in."""
    world = care_world(database, email=None, webhook="https://hooks.example.org/x")
    with database.session() as session:
        for _ in range(40):
            outbox.enqueue(
                session, channel="webhook", event="test", recipient="https://x.example", payload={}
            )
    assert world.patient_id
    claimed: list[int] = []
    lock = threading.Lock()

    def claim(name: str) -> None:
        worker = Worker(database, _with(settings, delivery_claim_seconds=600), worker_id=name)
        for _ in range(10):
            got = worker.claim_batch()
            with lock:
                claimed.extend(m.id for m in got)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == len(set(claimed)) == 40
