"""The database: pragmas, transactions, migrations and the append-only audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from spinepath.store import migrate, repository
from spinepath.store.db import Database
from spinepath.store.models import Base, Clinic


def test_the_migrated_schema_matches_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_schema_is_at_the_head_revision(database: Database) -> None:
    assert migrate.head_revision() is not None
    assert migrate.is_up_to_date(database)


def test_upgrading_twice_changes_nothing(database: Database) -> None:
    migrate.upgrade(database)
    assert migrate.is_up_to_date(database)


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite+pysqlite:///{tmp_path / 'new.db'}")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        busy_timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert busy_timeout is not None
        assert busy_timeout >= 1000
    database.dispose()


def _write_then_fail(database: Database) -> None:
    with database.session() as session:
        repository.create_clinic(session, "Half-written")
        raise RuntimeError("boom")


def test_a_failing_unit_of_work_writes_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError):
        _write_then_fail(database)
    with database.session() as session:
        assert session.query(Clinic).count() == 0


def test_a_patient_cannot_point_at_a_missing_clinic(database: Database) -> None:
    with pytest.raises(IntegrityError), database.session() as session:
        repository.create_patient(session, clinic_id=999)


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"]
)
def test_the_audit_log_refuses_updates_and_deletes(
    database: Database, owner_database: Database, statement: str
) -> None:
    with database.session() as session:
        repository.record_audit(session, actor_kind="system", actor_id=None, action="read")
    # The app's own connection is refused (on PostgreSQL its role has no such privilege)...
    with pytest.raises(DBAPIError), database.session() as session:
        session.execute(text(statement))
    # ...and so is the owner's, by the append-only triggers.
    with pytest.raises(DBAPIError, match="append-only"), owner_database.session() as session:
        session.execute(text(statement))
    with database.session() as session:
        assert [e.action for e in repository.list_audit(session)] == ["read"]
