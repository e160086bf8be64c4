"""Audit log: a hash chain over the rows, and no re-use of a row's id.

The existing rows are chained in id order. On SQLite, ``INSERT OR REPLACE`` with an existing id
deleted the old row without firing the delete trigger; a BEFORE INSERT trigger now refuses any
id already present (and the connection turns recursive triggers on as well).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import sqlalchemy as sa
from alembic import op

from spinepath.store.models import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
_SQLITE_TRIGGERS = ("audit_events_no_update", "audit_events_no_delete")
_SQLITE_NO_REUSE = """CREATE TRIGGER audit_events_no_id_reuse BEFORE INSERT ON audit_events
    WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id)
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"""


def _hash(row: sa.Row[tuple[object, ...]], prev: str) -> str:
    # The canonical form of spinepath.store.audit_chain.row_hash, frozen here so that this
    # migration keeps producing the hashes it produced when it was written.
    at = row.at
    if not isinstance(at, dt.datetime):
        raise TypeError(f"audit_events {row.id}: 'at' is not a timestamp")
    fields = {
        "at": at.isoformat(timespec="microseconds"),
        "actor_kind": row.actor_kind,
        "actor_id": row.actor_id,
        "action": row.action,
        "patient_id": row.patient_id,
        "clinic_id": row.clinic_id,
        "route": row.route,
        "outcome": row.outcome,
        "prev": prev,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


_EVENTS = sa.table(
    "audit_events",
    sa.column("id", sa.Integer()),
    # Read through the app's type so that SQLite's offset-less values come back as UTC.
    sa.column("at", UtcDateTime()),
    *(
        sa.column(name, sa.String())
        for name in ("actor_kind", "actor_id", "action", "patient_id", "route", "outcome")
    ),
    sa.column("clinic_id", sa.Integer()),
)


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    # The append-only triggers would refuse the one-off update that chains the existing rows.
    if sqlite:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("row_hash", sa.String(length=64), nullable=False, server_default="")
        )
    prev = GENESIS
    rows = bind.execute(sa.select(_EVENTS).order_by(_EVENTS.c.id)).fetchall()
    for row in rows:
        digest = _hash(row, prev)
        bind.execute(
            sa.text("UPDATE audit_events SET prev_hash = :p, row_hash = :h WHERE id = :i"),
            {"p": prev, "h": digest, "i": row.id},
        )
        prev = digest
    if sqlite:
        for name in _SQLITE_TRIGGERS:
            verb = name.rsplit("_", 1)[1].upper()
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {verb} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )
        op.execute(_SQLITE_NO_REUSE)
    else:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER audit_events_no_id_reuse")
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
    if sqlite:
        for name in _SQLITE_TRIGGERS:
            verb = name.rsplit("_", 1)[1].upper()
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {verb} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )
    else:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
