"""The audit log's hash chain finds any row changed, deleted or moved behind the app's back,
and the log refuses a row written over another with the same id."""

from __future__ import annotations

import threading

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from spinepath.store import audit_chain, migrate, repository
from spinepath.store.db import Database


def _record(database: Database, count: int, *, start: int = 0) -> None:
    with database.session() as session:
        for number in range(start, start + count):
            repository.record_audit(
                session,
                actor_kind="clinician",
                actor_id=number,
                action="read",
                patient_id=f"p{number}",
                clinic_id=1,
                route="GET /clinic/patients/{patient_id}",
            )


def _verify(database: Database) -> audit_chain.Verification:
    with database.session() as session:
        return audit_chain.verify(session)


def _tamper(database: Database, *statements: str) -> None:
    """Runs SQL as the database owner would, with the append-only triggers switched off."""
    with database.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
        else:
            connection.exec_driver_sql(
                "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"
            )
        for statement in statements:
            connection.execute(text(statement))


def test_a_clean_log_verifies_and_reports_its_head(database: Database) -> None:
    _record(database, 5)
    result = _verify(database)
    assert result.intact, result.problems
    assert result.rows == 5
    with database.session() as session:
        last = repository.list_audit(session)[0]
    assert result.head == last.row_hash


def test_an_empty_log_verifies(database: Database) -> None:
    result = _verify(database)
    assert (result.intact, result.rows, result.head) == (True, 0, audit_chain.GENESIS)


def test_an_edited_row_is_found(database: Database, owner_database: Database) -> None:
    _record(database, 5)
    _tamper(owner_database, "UPDATE audit_events SET patient_id = 'someone-else' WHERE id = 3")
    result = _verify(database)
    assert not result.intact
    assert result.problems == ["row 3: its contents do not match its hash (changed)"]


def test_a_deleted_row_is_found(database: Database, owner_database: Database) -> None:
    _record(database, 5)
    _tamper(owner_database, "DELETE FROM audit_events WHERE id = 2")
    result = _verify(database)
    assert result.rows == 4
    assert any(p.startswith("row 3: does not follow row 1") for p in result.problems)


def test_deleting_the_newest_rows_is_found_against_a_recorded_head(
    database: Database, owner_database: Database
) -> None:
    _record(database, 5)
    head = _verify(database).head
    _tamper(owner_database, "DELETE FROM audit_events WHERE id = 5")
    result = _verify(database)
    assert result.intact  # the chain itself still links up...
    assert result.head != head  # ...so the head recorded elsewhere is what shows the cut


def test_reordered_rows_are_found(database: Database, owner_database: Database) -> None:
    _record(database, 4)
    # Swap the contents (hashes included) of rows 2 and 3 by moving them through a free id.
    _tamper(
        owner_database,
        "UPDATE audit_events SET id = 100 WHERE id = 2",
        "UPDATE audit_events SET id = 2 WHERE id = 3",
        "UPDATE audit_events SET id = 3 WHERE id = 100",
    )
    result = _verify(database)
    assert not result.intact
    assert result.problems[0].startswith("row 2: does not follow row 1")


def test_a_row_cannot_be_written_over_another_with_the_same_id(database: Database) -> None:
    _record(database, 2)
    verb = "INSERT OR REPLACE" if database.engine.dialect.name == "sqlite" else "INSERT"
    statement = (
        f"{verb} INTO audit_events (id, at, actor_kind, actor_id, action, patient_id, "
        "clinic_id, route, outcome, prev_hash, row_hash) VALUES (1, '2030-01-01 00:00:00', "
        "'clinician', '9', 'read', 'forged', 1, '', 'ok', '', '')"
    )
    with pytest.raises(DBAPIError), database.session() as session:
        session.execute(text(statement))
    assert _verify(database).intact


def test_concurrent_writers_keep_one_chain(database: Database) -> None:
    errors: list[BaseException] = []

    def writer(start: int) -> None:
        try:
            for offset in range(5):
                _record(database, 1, start=start + offset)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n * 100,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = _verify(database)
    assert result.rows == 30
    assert result.intact, result.problems


def test_upgrading_chains_the_rows_written_before_the_chain_existed(
    database: Database, owner_database: Database
) -> None:
    config = migrate.alembic_config()
    with owner_database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    with owner_database.engine.begin() as connection:
        for number in range(3):
            connection.execute(
                text(
                    "INSERT INTO audit_events (at, actor_kind, actor_id, action, route, "
                    "outcome) VALUES (:at, 'clinician', :n, 'read', '', 'ok')"
                ),
                {"at": f"2030-01-0{number + 1} 10:00:00.123456", "n": str(number)},
            )
    migrate.upgrade(owner_database)
    result = _verify(database)
    assert result.rows == 3
    assert result.intact, result.problems
    _record(database, 1)
    assert _verify(database).intact
