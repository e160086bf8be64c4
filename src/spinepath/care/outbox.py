"""The outbox: messages written with the change that caused them, delivered later.

A worker claims a batch (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so several workers share the
queue; SQLite: one worker holds the outbox lease, ``care.leases``), sends each message outside
any transaction, then records the outcome. A claim lapses after ``claim_seconds``: a worker
that dies mid-delivery leaves its messages to be sent again. Delivery is therefore at least
once, never at most once; receivers drop repeats by ``idempotency_key``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from spinepath.store.models import OutboxMessage, utcnow

Channel = Literal["email", "webhook"]
PENDING = "pending"
SENT = "sent"
FAILED = "failed"
SKIPPED = "skipped"
"""Not sent because it no longer applies (a reminder for a questionnaire since completed)."""

BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600


def enqueue(
    session: Session,
    *,
    channel: Channel,
    event: str,
    recipient: str,
    payload: dict[str, Any],
    alert_id: int | None = None,
    patient_id: str | None = None,
    channel_id: int | None = None,
    key: str | None = None,
) -> OutboxMessage:
    message = OutboxMessage(
        idempotency_key=key or f"{event}-{uuid.uuid4().hex}",
        channel=channel,
        event=event,
        recipient=recipient,
        payload=payload,
        alert_id=alert_id,
        patient_id=patient_id,
        channel_id=channel_id,
        status=PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def key_exists(session: Session, key: str) -> bool:
    return (
        session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))
        is not None
    )


def claim(
    session: Session,
    *,
    worker_id: str,
    claim_seconds: int,
    limit: int,
    channels: tuple[str, ...],
    now: dt.datetime | None = None,
) -> list[OutboxMessage]:
    """Up to ``limit`` messages ready to send, claimed for this worker (attempts counted)."""
    at = now or utcnow()
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == PENDING,
            OutboxMessage.next_attempt_at <= at,
            OutboxMessage.channel.in_(channels),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < at),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    messages = list(session.scalars(query))
    for message in messages:
        message.claimed_by = worker_id
        message.claimed_until = at + dt.timedelta(seconds=claim_seconds)
        message.attempts += 1
    session.flush()
    return messages


def mark_sent(session: Session, message_id: int, now: dt.datetime | None = None) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == PENDING)
        .values(status=SENT, sent_at=now or utcnow(), claimed_until=None, last_error=None)
    )


def mark_skipped(session: Session, message_id: int, reason: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == PENDING)
        .values(status=SKIPPED, claimed_until=None, last_error=reason[:2000])
    )


def backoff_seconds(attempts: int) -> int:
    """30 s after the first failure, doubling, at most an hour."""
    return int(min(BACKOFF_FIRST_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def mark_failed_attempt(
    session: Session,
    message: OutboxMessage,
    error: str,
    *,
    max_attempts: int,
    now: dt.datetime | None = None,
) -> str:
    """Schedules the next attempt, or gives up after ``max_attempts``; returns the new status."""
    at = now or utcnow()
    status = FAILED if message.attempts >= max_attempts else PENDING
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == PENDING)
        .values(
            status=status,
            claimed_until=None,
            last_error=error[:2000],
            next_attempt_at=at + dt.timedelta(seconds=backoff_seconds(message.attempts)),
        )
    )
    return status


def messages_for_alert(session: Session, alert_id: int) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.alert_id == alert_id)
            .order_by(OutboxMessage.id)
        )
    )
