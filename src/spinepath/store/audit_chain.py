"""The audit log's hash chain: each row's hash covers its own fields and the previous row's hash.

Changing a row changes its hash; deleting or moving a row breaks the link to the next one. So
``verify`` finds any edit, deletion or reordering made behind the application's back, from the
first broken row on. Someone able to rewrite the whole table could recompute every hash; the
head hash that ``verify`` prints can be recorded elsewhere (a ticket, a second system) to catch
that too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from spinepath.store.models import AuditEvent

GENESIS = "0" * 64
_POSTGRES_CHAIN_LOCK = 0x5370_4175_6469_7400  # "SpAudit": one writer extends the chain at a time


def row_hash(event: AuditEvent, prev_hash: str) -> str:
    fields = {
        "at": event.at.isoformat(timespec="microseconds"),
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "action": event.action,
        "patient_id": event.patient_id,
        "clinic_id": event.clinic_id,
        "route": event.route,
        "outcome": event.outcome,
        "prev": prev_hash,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def chain(session: Session, event: AuditEvent) -> None:
    """Sets the event's place in the chain; call just before adding it to the session."""
    if session.get_bind().dialect.name == "postgresql":
        # Held to the end of the transaction: two requests must not both extend the same head.
        # SQLite needs nothing here: every write transaction starts with BEGIN IMMEDIATE.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_CHAIN_LOCK})
    head = session.scalar(select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1))
    event.prev_hash = head or GENESIS
    event.row_hash = row_hash(event, event.prev_hash)


@dataclass(frozen=True)
class Verification:
    rows: int
    head: str
    problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_rows(rows: Iterable[AuditEvent]) -> Verification:
    problems: list[str] = []
    previous = GENESIS
    count = 0
    last_id: int | None = None
    for event in rows:
        count += 1
        if event.prev_hash != previous:
            after = "the start" if last_id is None else f"row {last_id}"
            problems.append(
                f"row {event.id}: does not follow {after} (a row before it was changed, "
                "deleted or moved)"
            )
        if row_hash(event, event.prev_hash) != event.row_hash:
            problems.append(f"row {event.id}: its contents do not match its hash (changed)")
        previous = event.row_hash
        last_id = event.id
    return Verification(rows=count, head=previous, problems=problems)


def verify(session: Session, *, batch: int = 5000) -> Verification:
    """Walks the whole log in id order, a batch at a time."""
    rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(batch)
    return verify_rows(rows)
