"""On PostgreSQL the app's runtime role can add audit rows but cannot change, delete or unlock
them, while the app itself works as that role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from spinepath.store import audit_chain, repository, roles
from spinepath.store.db import Database
from support import database as test_databases

ROLE = "spinepath_app_test"


@pytest.fixture
def runtime(postgres_cluster: test_databases.PostgresCluster | None) -> Iterator[Database]:
    if postgres_cluster is None:
        pytest.skip(f"{test_databases.SKIP_POSTGRES}=1")
    with test_databases.postgres_database_url(postgres_cluster) as app_url:
        owner_url = test_databases.owner_url(app_url)
        owner = Database.from_url(owner_url)
        with owner.engine.begin() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": ROLE}
            ).scalar()
            if not exists:
                connection.execute(text(f"CREATE ROLE {ROLE} LOGIN"))
        roles.grant_runtime_role(owner, ROLE)
        app = Database.from_url(owner_url.replace("postgres@", f"{ROLE}@", 1))
        try:
            yield app
        finally:
            app.dispose()
            owner.dispose()


@pytest.mark.postgres
def test_the_app_works_as_the_runtime_role(runtime: Database) -> None:
    with runtime.session() as session:
        clinic = repository.create_clinic(session, "North")
        patient, _link = repository.create_patient(session, clinic.id)
        repository.record_audit(
            session, actor_kind="system", actor_id=None, action="read", patient_id=patient.id
        )
    with runtime.session() as session:
        assert audit_chain.verify(session).rows == 1


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'x'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
        "DROP TABLE audit_events",
        "UPDATE alembic_version SET version_num = '0001'",
    ],
)
def test_the_runtime_role_cannot_change_the_audit_log(runtime: Database, statement: str) -> None:
    with runtime.session() as session:
        repository.record_audit(session, actor_kind="system", actor_id=None, action="read")
    with pytest.raises((ProgrammingError, DBAPIError)), runtime.session() as session:
        session.execute(text(statement))
    with runtime.session() as session:
        result = audit_chain.verify(session)
    assert (result.rows, result.intact) == (1, True)


@pytest.mark.postgres
def test_only_plain_role_names_are_granted(runtime: Database) -> None:
    with pytest.raises(ValueError, match="not a plain role name"):
        roles.grant_runtime_role(runtime, "app; DROP TABLE users")


def test_roles_are_refused_on_sqlite() -> None:
    database = Database.from_url("sqlite+pysqlite://")
    with pytest.raises(ValueError, match="PostgreSQL feature"):
        roles.grant_runtime_role(database, "spinepath_app")
    database.dispose()
