"""Shared fixtures: every database test runs on SQLite and on a throwaway PostgreSQL 15 cluster.

The cluster is made once per test session with the installed server binaries (initdb refuses
root, so it runs as the ``postgres`` user when the tests run as root), listens only on a unix
socket in a temporary directory, and is removed at the end. Each test gets a fresh database
copied from a migrated template, so tests never see each other's rows.

Set ``SPINEPATH_TEST_SKIP_POSTGRES=1`` to run without PostgreSQL; without it, missing binaries
fail the run loudly.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlalchemy import create_engine, text

from spinepath.settings import Settings
from spinepath.store import migrate, repository
from spinepath.store.db import Database
from spinepath.store.models import User
from spinepath.store.passwords import hash_password

PG_BIN = Path(os.environ.get("SPINEPATH_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
PG_PORT = 5432
TEMPLATE_DB = "spinepath_template"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery staple"
SESSION_COOKIE = "spinepath_session"
BACKENDS = ("sqlite", "postgresql")


# PostgreSQL cluster -------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresCluster:
    base: Path
    socket_dir: Path

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{PG_USER}@/{dbname}?host={self.socket_dir}&port={PG_PORT}"


def _as_postgres_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", PG_USER, "--", *command]


def _start_cluster() -> PostgresCluster:
    try:
        owner = pwd.getpwnam(PG_USER) if os.geteuid() == 0 else None
    except KeyError:
        pytest.fail(f"running as root needs a {PG_USER!r} user to run initdb", pytrace=False)
    base = Path(tempfile.mkdtemp(prefix="spinepath-pg-"))
    socket_dir = base / "socket"
    data_dir = base / "data"
    socket_dir.mkdir()
    if owner is not None:
        for path in (base, socket_dir):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    run = {"check": True, "capture_output": True, "text": True}
    subprocess.run(
        _as_postgres_user(
            [
                *(str(PG_BIN / "initdb"), "-D", str(data_dir), "-A", "trust", "-U", PG_USER),
                *("-E", "UTF8", "--no-sync", "--locale=C"),
            ]
        ),
        **run,  # type: ignore[call-overload]
    )
    options = (
        f"-k {socket_dir} -p {PG_PORT} -c listen_addresses='' -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    )
    subprocess.run(
        _as_postgres_user(
            [
                *(str(PG_BIN / "pg_ctl"), "-D", str(data_dir), "-l", str(base / "log"), "-w"),
                *("-o", options, "start"),
            ]
        ),
        **run,  # type: ignore[call-overload]
    )
    return PostgresCluster(base=base, socket_dir=socket_dir)


def _stop_cluster(cluster: PostgresCluster) -> None:
    subprocess.run(
        _as_postgres_user(
            [str(PG_BIN / "pg_ctl"), "-D", str(cluster.base / "data"), "-m", "immediate", "stop"]
        ),
        check=False,
        capture_output=True,
    )
    shutil.rmtree(cluster.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster | None]:
    if not (PG_BIN / "initdb").exists():
        if os.environ.get("SPINEPATH_TEST_SKIP_POSTGRES") == "1":
            yield None
            return
        pytest.fail(
            f"PostgreSQL server binaries not found in {PG_BIN}; install postgresql-15 or set "
            "SPINEPATH_TEST_SKIP_POSTGRES=1",
            pytrace=False,
        )
    cluster = _start_cluster()
    try:
        admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {TEMPLATE_DB}"))
        admin.dispose()
        template = Database.from_url(cluster.url(TEMPLATE_DB))
        migrate.upgrade(template)
        template.dispose()
        yield cluster
    finally:
        _stop_cluster(cluster)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    database = Database.from_url(f"sqlite+pysqlite:///{path}")
    migrate.upgrade(database)
    database.dispose()  # the last connection to close folds the WAL into the file
    return path


_database_numbers = itertools.count()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A fresh, migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "spinepath.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite+pysqlite:///{path}"
        return
    cluster: PostgresCluster | None = request.getfixturevalue("postgres_cluster")
    if cluster is None:
        pytest.skip("SPINEPATH_TEST_SKIP_POSTGRES=1")
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB} STRATEGY FILE_COPY")
        )
    try:
        yield cluster.url(name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


# App, database and people -------------------------------------------------------------------


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "secret_key": TEST_SECRET,
        "database_url": database_url,
        "data_dir": data_dir,
        "cookie_secure": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = Database.from_settings(settings)
    yield db
    db.dispose()


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_test_app(settings)


def create_test_app(settings: Settings) -> FastAPI:
    from spinepath.web.app import create_app

    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@dataclass(frozen=True)
class Person:
    id: int
    email: str


@dataclass(frozen=True)
class LinkedPatient:
    id: str
    link_token: str


@dataclass(frozen=True)
class World:
    """Two clinics, each with a clinician, a patient and an API token, and an administrator."""

    clinic_a: int
    clinic_b: int
    clinician_a: Person
    clinician_b: Person
    admin: Person
    patient_a: LinkedPatient
    patient_b: LinkedPatient
    token_a: str
    token_b: str


_password_hash: list[str] = []


def password_hash() -> str:
    """Hashed once per run: argon2 is slow on purpose."""
    if not _password_hash:
        _password_hash.append(hash_password(PASSWORD))
    return _password_hash[0]


def add_user(database: Database, email: str, role: str, clinic_id: int | None) -> Person:
    with database.session() as session:
        user = User(email=email, password_hash=password_hash(), role=role, clinic_id=clinic_id)
        session.add(user)
        session.flush()
        return Person(id=user.id, email=email)


@pytest.fixture
def world(database: Database) -> World:
    with database.session() as session:
        clinic_a = repository.create_clinic(session, "Clinic A").id
        clinic_b = repository.create_clinic(session, "Clinic B").id
        patient_a, link_a = repository.create_patient(session, clinic_a, reference="A1")
        patient_b, link_b = repository.create_patient(session, clinic_b, reference="B1")
        _t, token_a = repository.create_api_token(session, clinic_id=clinic_a, name="a")
        _t, token_b = repository.create_api_token(session, clinic_id=clinic_b, name="b")
        patients = (LinkedPatient(patient_a.id, link_a), LinkedPatient(patient_b.id, link_b))
    return World(
        clinic_a=clinic_a,
        clinic_b=clinic_b,
        clinician_a=add_user(database, "a@clinic-a.example", "clinician", clinic_a),
        clinician_b=add_user(database, "b@clinic-b.example", "clinician", clinic_b),
        admin=add_user(database, "admin@example.org", "admin", None),
        patient_a=patients[0],
        patient_b=patients[1],
        token_a=token_a,
        token_b=token_b,
    )


def session_cookie(secret: str, user_id: int, signed_in_at: int | None = None) -> str:
    """A session cookie exactly as the app's SessionMiddleware would sign it."""
    payload = {
        "user_id": user_id,
        "signed_in_at": int(time.time()) if signed_in_at is None else signed_in_at,
    }
    data = base64.b64encode(json.dumps(payload).encode())
    return TimestampSigner(secret).sign(data).decode()


@pytest.fixture
def sign_in_as(client: TestClient, settings: Settings) -> Callable[[Person | None], TestClient]:
    """Makes ``client`` carry the session of ``person`` (or no session for None)."""

    def sign_in(person: Person | None) -> TestClient:
        client.cookies.clear()
        if person is not None:
            client.cookies.set(
                SESSION_COOKIE, session_cookie(settings.secret_key_value(), person.id)
            )
        return client

    return sign_in
