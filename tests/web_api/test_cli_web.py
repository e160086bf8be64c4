"""The web commands: db upgrade, clinics add, users add, tokens create, serve."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx2
import pytest
import typer

from spinepath.store import migrate, repository
from spinepath.store.db import Database
from support.database import owner_url
from support.intakes import low_back_pain
from support.live_server import live_server
from support.web import PASSWORD
from web_api.web_cli import run


def test_db_upgrade_brings_the_schema_to_head(
    cli: typer.Typer, env: dict[str, str], database: Database
) -> None:
    code, output = run(cli, env, "db", "upgrade")
    assert code == 0, output
    head = migrate.head_revision()
    assert head is not None
    assert head in output
    assert migrate.is_up_to_date(database)


def test_an_admin_sets_up_a_clinic_a_clinician_and_a_token(
    cli: typer.Typer, env: dict[str, str], database: Database
) -> None:
    assert run(cli, env, "clinics", "add", "North Clinic")[0] == 0
    code, output = run(
        cli, env, "users", "add", "Dr@North.example", "--clinic", "North Clinic",
        "--password", PASSWORD,
    )  # fmt: skip
    assert code == 0, output
    code, output = run(cli, env, "tokens", "create", "--clinic", "North Clinic", "--name", "ehr")
    assert code == 0, output
    raw_token = output.strip().splitlines()[-1]
    with database.session() as session:
        user = repository.authenticate(session, "dr@north.example", PASSWORD)
        assert user is not None
        assert user.role == "clinician"
        token = repository.api_token_by_secret(session, raw_token)
        assert token is not None
        assert token.clinic_id == user.clinic_id
        assert raw_token not in token.token_hash


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("users", "add", "x@example.org", "--password", PASSWORD), "clinic"),
        (
            ("users", "add", "x@example.org", "--clinic", "Nowhere", "--password", PASSWORD),
            "clinic",
        ),
        (("users", "add", "x@example.org", "--role", "admin", "--password", "short"), "password"),
        (("users", "add", "not-an-email", "--role", "admin", "--password", PASSWORD), "email"),
        (("tokens", "create", "--clinic", "Nowhere"), "clinic"),
    ],
)
def test_bad_input_names_the_field_and_fails(
    cli: typer.Typer, env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    code, output = run(cli, env, *args)
    assert code != 0
    assert message in output


def test_a_duplicate_clinic_is_refused(cli: typer.Typer, env: dict[str, str]) -> None:
    assert run(cli, env, "clinics", "add", "Same")[0] == 0
    code, output = run(cli, env, "clinics", "add", "Same")
    assert code == 1
    assert "already exists" in output


def test_serve_starts_the_app_and_prints_its_url(
    database_url: str, tmp_path: Path, env: dict[str, str]
) -> None:
    with live_server(env, workers=1) as server:
        assert httpx2.get(f"{server.url}/docs").status_code == 200
        response = httpx2.post(
            f"{server.url}/api/v1/assessments",
            json=low_back_pain(),
        )
        assert response.status_code == 200
        server.kill()
        assert server.process.stdout is not None
        assert server.url in server.process.stdout.read().decode()


def test_serve_on_a_fresh_machine_makes_a_sqlite_database(tmp_path: Path) -> None:
    env = {"SPINEPATH_DATA_DIR": str(tmp_path / "var"), "SPINEPATH_ENVIRONMENT": "development"}
    with live_server(env, workers=1) as server:
        assert httpx2.get(f"{server.url}/docs").status_code == 200
    assert (tmp_path / "var" / "spinepath.db").exists()
    assert (tmp_path / "var" / "secret_key").exists()
    database = Database.from_url(f"sqlite+pysqlite:///{tmp_path / 'var' / 'spinepath.db'}")
    assert migrate.is_up_to_date(database)
    database.dispose()


def test_a_revoked_token_is_refused(
    cli: typer.Typer, env: dict[str, str], database: Database
) -> None:
    run(cli, env, "clinics", "add", "North Clinic")
    raw_token = run(cli, env, "tokens", "create", "--clinic", "North Clinic")[1].splitlines()[-1]
    code, listing = run(cli, env, "tokens", "list", "--clinic", "North Clinic")
    assert code == 0
    token_id = listing.split("\t", 1)[0]
    assert "active" in listing
    assert run(cli, env, "tokens", "revoke", token_id)[0] == 0
    assert "revoked" in run(cli, env, "tokens", "list", "--clinic", "North Clinic")[1]
    with database.session() as session:
        assert repository.api_token_by_secret(session, raw_token) is None


def test_disabling_an_account_or_setting_a_password_ends_its_sessions(
    cli: typer.Typer, env: dict[str, str], database: Database
) -> None:
    from spinepath.store import sessions

    assert run(cli, env, "clinics", "add", "North Clinic")[0] == 0
    run(cli, env, "users", "add", "dr@north.example", "--clinic", "North Clinic",
        "--password", PASSWORD)  # fmt: skip
    with database.session() as session:
        user = repository.user_by_email(session, "dr@north.example")
        for _ in range(2):
            sessions.start_session(session, user, lifetime=dt.timedelta(hours=1))
    code, output = run(cli, env, "users", "disable", "dr@north.example")
    assert code == 0, output
    with database.session() as session:
        user = repository.user_by_email(session, "dr@north.example")
        assert (user.active, sessions.live_sessions(session, user.id)) == (False, 0)
        sessions.start_session(session, user, lifetime=dt.timedelta(hours=1))
    assert run(cli, env, "users", "enable", "dr@north.example")[0] == 0
    code, output = run(
        cli, env, "users", "set-password", "dr@north.example", "--password", "another long one 7"
    )
    assert code == 0, output
    with database.session() as session:
        user = repository.user_by_email(session, "dr@north.example")
        assert user.active
        assert sessions.live_sessions(session, user.id) == 0
        assert repository.authenticate(session, "dr@north.example", "another long one 7")
    assert run(cli, env, "users", "disable", "nobody@north.example")[0] != 0


def test_audit_verify_passes_a_clean_log_and_fails_a_changed_one(
    cli: typer.Typer, env: dict[str, str], database: Database, owner_database: Database
) -> None:
    with database.session() as session:
        for _ in range(3):
            repository.record_audit(session, actor_kind="system", actor_id=None, action="read")
    code, output = run(cli, env, "audit", "verify")
    assert code == 0, output
    assert "audit log intact: 3 rows" in output
    with owner_database.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        else:
            connection.exec_driver_sql(
                "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"
            )
        connection.exec_driver_sql("UPDATE audit_events SET action = 'nothing' WHERE id = 2")
    code, output = run(cli, env, "audit", "verify")
    assert code == 1
    assert "row 2: its contents do not match its hash (changed)" in output


@pytest.mark.parametrize(
    ("trusted", "codes"), [("", [303, 429]), ("127.0.0.1", [303, 303])], ids=["none", "loopback"]
)
def test_forwarded_addresses_are_believed_only_from_named_proxies(
    env: dict[str, str], trusted: str, codes: list[int]
) -> None:
    settings = {**env, "SPINEPATH_START_RATE_LIMIT": "1", "SPINEPATH_TRUSTED_PROXIES": trusted}
    with live_server(settings, workers=1) as server:
        answers = [
            httpx2.post(
                f"{server.url}/start", headers={"X-Forwarded-For": address}, follow_redirects=False
            ).status_code
            for address in ("203.0.113.1", "203.0.113.2")
        ]
    # Untrusted, both requests come from the same place, 127.0.0.1, and share one limit.
    assert answers == codes


def test_db_upgrade_grants_the_runtime_role_only_what_the_app_needs(
    cli: typer.Typer, env: dict[str, str], owner_database: Database, database_url: str
) -> None:
    from sqlalchemy import text

    role = "spinepath_upgrade_test"
    database = owner_database
    env = {**env, "SPINEPATH_DATABASE_URL": owner_url(database_url)}
    if database.engine.dialect.name == "sqlite":
        code, output = run(cli, {**env, "SPINEPATH_DATABASE_RUNTIME_ROLE": role}, "db", "upgrade")
        assert code != 0
        assert "PostgreSQL feature" in output
        return
    with database.engine.begin() as connection:
        if not connection.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).scalar():
            connection.execute(text(f"CREATE ROLE {role} LOGIN"))
    code, output = run(cli, {**env, "SPINEPATH_DATABASE_RUNTIME_ROLE": role}, "db", "upgrade")
    assert code == 0, output
    assert f"granted {role}" in output
    with database.engine.connect() as connection:
        allowed = connection.execute(
            text(
                "SELECT has_table_privilege(:r, 'audit_events', 'INSERT'), "
                "has_table_privilege(:r, 'audit_events', 'UPDATE'), "
                "has_table_privilege(:r, 'audit_events', 'DELETE'), "
                "has_table_privilege(:r, 'patients', 'UPDATE')"
            ),
            {"r": role},
        ).one()
    assert tuple(allowed) == (True, False, False, True)
