"""Named leases: a job (the reminder schedule; the SQLite outbox) that one worker runs at a time.

Taking a lease is one conditional write: it succeeds when the lease is free, has expired or is
already this worker's. The holder renews it each round; a worker that dies loses it when it
expires, and another worker takes over.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spinepath.store.models import WorkerLease, utcnow


def acquire(
    session: Session, name: str, holder: str, seconds: int, now: dt.datetime | None = None
) -> bool:
    """Takes or renews the lease ``name`` for ``holder``; False when another worker holds it."""
    at = now or utcnow()
    until = at + dt.timedelta(seconds=seconds)
    taken = session.execute(
        update(WorkerLease)
        .where(
            WorkerLease.name == name,
            or_(WorkerLease.holder == holder, WorkerLease.expires_at < at),
        )
        .values(holder=holder, expires_at=until)
    )
    if taken.rowcount:  # type: ignore[attr-defined]
        return True
    if session.scalar(select(WorkerLease.name).where(WorkerLease.name == name)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(WorkerLease(name=name, holder=holder, expires_at=until))
    except IntegrityError:
        # Another worker created it between the two statements.
        return False
    return True


def release(session: Session, name: str, holder: str) -> None:
    session.execute(
        update(WorkerLease)
        .where(WorkerLease.name == name, WorkerLease.holder == holder)
        .values(expires_at=utcnow())
    )
