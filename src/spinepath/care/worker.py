"""`spinepath worker`: delivers the outbox and raises follow-up reminders when they fall due.

Safe to run in several processes at once. On PostgreSQL workers share the outbox by row locks
(``SKIP LOCKED``); on SQLite, which has one writer anyway, one worker at a time holds the outbox
lease. The reminder schedule always runs under a lease. Messages are sent outside any database
transaction, so a slow mail server never holds the database.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from spinepath.care import alerts, delivery, leases, outbox, reminders
from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.store.models import AlertChannel, OutboxMessage

log = logging.getLogger("spinepath.worker")

OUTBOX_LEASE = "outbox"
SCHEDULE_LEASE = "reminder-schedule"
BATCH = 20


@dataclass
class RoundStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    reminders_queued: int = 0
    abandoned_stop_alerts: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Claimed:
    """What delivery needs, read while the claim's transaction was open."""

    id: int
    key: str
    channel: str
    event: str
    recipient: str
    payload: dict[str, Any]
    attempts: int
    patient_id: str | None
    secret: str | None


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


StopReasons = Callable[[dict[str, Any]], list[str] | None]


class Worker:
    """``stop_reasons``: the questionnaire's emergency-stop rule (it lives with the pages),
    for alerting on questionnaires left at a red flag; without it no such scan runs."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        worker_id: str | None = None,
        stop_reasons: StopReasons | None = None,
    ):
        self.database = database
        self.settings = settings
        self.worker_id = worker_id or new_worker_id()
        self.stop_reasons = stop_reasons

    def run_once(self) -> RoundStats:
        stats = RoundStats()
        self._schedule(stats)
        for message in self.claim_batch():
            self._deliver(message, stats)
        return stats

    def run(
        self, stop: threading.Event, on_round: Callable[[RoundStats], None] | None = None
    ) -> None:
        while not stop.is_set():
            try:
                stats = self.run_once()
            except Exception:
                # A database outage must not end the worker: it tries again next round.
                log.exception("worker round failed")
            else:
                if on_round is not None:
                    on_round(stats)
                if stats.sent or stats.retried or stats.failed or stats.skipped:
                    continue
            stop.wait(self.settings.worker_poll_seconds)

    def _schedule(self, stats: RoundStats) -> None:
        with self.database.session() as session:
            lease = max(60, int(self.settings.worker_poll_seconds * 5))
            if not leases.acquire(session, SCHEDULE_LEASE, self.worker_id, lease):
                return
            stats.reminders_queued = reminders.queue_due(session, self.settings)
            if self.stop_reasons is not None:
                stats.abandoned_stop_alerts = alerts.raise_for_abandoned_stops(
                    session,
                    self.stop_reasons,
                    idle=dt.timedelta(minutes=self.settings.abandoned_stop_alert_minutes),
                    base_url=self.settings.public_url,
                )

    def _channels(self) -> tuple[str, ...]:
        # Without an SMTP server e-mails wait in the outbox rather than fail their attempts.
        ready = self.settings.smtp_host and self.settings.smtp_from
        return ("email", "webhook") if ready else ("webhook",)

    def claim_batch(self) -> list[_Claimed]:
        """Claims the next messages for this worker (nothing while another holds the SQLite
        outbox lease)."""
        with self.database.session() as session:
            claim_seconds = self.settings.delivery_claim_seconds
            if self.database.is_sqlite and not leases.acquire(
                session, OUTBOX_LEASE, self.worker_id, claim_seconds
            ):
                return []
            messages = outbox.claim(
                session,
                worker_id=self.worker_id,
                claim_seconds=claim_seconds,
                limit=BATCH,
                channels=self._channels(),
            )
            claimed = []
            for m in messages:
                channel = session.get(AlertChannel, m.channel_id) if m.channel_id else None
                claimed.append(
                    _Claimed(
                        id=m.id,
                        key=m.idempotency_key,
                        channel=m.channel,
                        event=m.event,
                        recipient=m.recipient,
                        payload=dict(m.payload),
                        attempts=m.attempts,
                        patient_id=m.patient_id,
                        secret=channel.secret if channel is not None else None,
                    )
                )
            return claimed

    def _deliver(self, message: _Claimed, stats: RoundStats) -> None:
        try:
            payload = self._payload(message)
            if payload is None:
                with self.database.session() as session:
                    outbox.mark_skipped(session, message.id, "no longer due")
                stats.skipped += 1
                return
            if message.channel == "email":
                # A reminder goes to the address the patient has now, if they changed it.
                to = str(payload.get("to", message.recipient))
                delivery.send_email(self.settings, to, payload, message.key)
            else:
                delivery.post_webhook(
                    self.settings, message.recipient, message.secret or "", payload, message.key
                )
        except (delivery.DeliveryError, reminders.ReminderError) as exc:
            self._failed(message, str(exc), stats)
            return
        with self.database.session() as session:
            outbox.mark_sent(session, message.id)
            if message.event == reminders.EVENT and message.patient_id is not None:
                repository.record_audit(
                    session,
                    actor_kind="system",
                    actor_id=self.worker_id[:64],
                    action="reminder_sent",
                    patient_id=message.patient_id,
                    route="worker",
                )
        stats.sent += 1

    def _payload(self, message: _Claimed) -> dict[str, Any] | None:
        if message.event != reminders.EVENT:
            return message.payload
        with self.database.session() as session:
            return reminders.render(session, self.settings, message.patient_id, message.payload)

    def _failed(self, message: _Claimed, error: str, stats: RoundStats) -> None:
        with self.database.session() as session:
            claimed = session.get(OutboxMessage, message.id)
            if claimed is None:
                return
            status = outbox.mark_failed_attempt(
                session, claimed, error, max_attempts=self.settings.delivery_max_attempts
            )
        log.warning("message %s (%s) not delivered: %s", message.id, message.event, error)
        stats.errors.append(error)
        if status == outbox.FAILED:
            stats.failed += 1
        else:
            stats.retried += 1
