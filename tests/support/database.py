"""Test databases on SQLite and on a throwaway PostgreSQL 15 cluster; fixtures in tests/conftest.py.

The cluster is made once per test session with the installed server binaries (initdb refuses
root, so it runs as the ``postgres`` user when the tests run as root), listens only on a unix
socket in a temporary directory, and is removed at the end. Each test gets a fresh database
copied from a migrated template, so tests never see each other's rows.

The app connects as ``APP_ROLE``, a role that owns nothing and may only add to the audit log
(``spinepath.store.roles``), as a production set-up should; the migrations and the tests that
play a database owner or an attacker with owner rights use ``owner_url``.

Set ``SPINEPATH_TEST_SKIP_POSTGRES=1`` to run without PostgreSQL; without it, missing binaries
fail the run loudly.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from spinepath.store import migrate, roles
from spinepath.store.db import Database

PG_BIN = Path(os.environ.get("SPINEPATH_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
PG_PORT = 5432
TEMPLATE_DB = "spinepath_template"
APP_ROLE = "spinepath_app"
SKIP_POSTGRES = "SPINEPATH_TEST_SKIP_POSTGRES"


@dataclass(frozen=True)
class PostgresCluster:
    base: Path
    socket_dir: Path

    def url(self, dbname: str, user: str = PG_USER) -> str:
        return f"postgresql+psycopg://{user}@/{dbname}?host={self.socket_dir}&port={PG_PORT}"


def owner_url(url: str) -> str:
    """The same database as its owner (the app's URL connects as ``APP_ROLE``)."""
    return url.replace(f"://{APP_ROLE}@", f"://{PG_USER}@", 1)


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


def postgres_cluster() -> Iterator[PostgresCluster | None]:
    """A running cluster with a migrated template database, removed afterwards.

    Yields None when the binaries are missing and ``SPINEPATH_TEST_SKIP_POSTGRES=1``; fails the
    run when they are missing without it.
    """
    if not (PG_BIN / "initdb").exists():
        if os.environ.get(SKIP_POSTGRES) == "1":
            yield None
            return
        pytest.fail(
            f"PostgreSQL server binaries not found in {PG_BIN}; install postgresql-15 or set "
            f"{SKIP_POSTGRES}=1",
            pytrace=False,
        )
    cluster = _start_cluster()
    try:
        admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {TEMPLATE_DB}"))
            connection.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN"))
        admin.dispose()
        template = Database.from_url(cluster.url(TEMPLATE_DB))
        migrate.upgrade(template)
        # The grants are kept in the template's catalogue, so every copy carries them.
        roles.grant_runtime_role(template, APP_ROLE)
        template.dispose()
        yield cluster
    finally:
        _stop_cluster(cluster)


def migrated_sqlite_file(path: Path) -> Path:
    """A migrated, empty SQLite database at ``path``, to copy for each test."""
    database = Database.from_url(f"sqlite+pysqlite:///{path}")
    migrate.upgrade(database)
    database.dispose()  # the last connection to close folds the WAL into the file
    return path


def sqlite_copy_url(template: Path, directory: Path) -> str:
    """A fresh copy of the migrated SQLite ``template`` in ``directory``."""
    path = directory / "spinepath.db"
    shutil.copyfile(template, path)
    return f"sqlite+pysqlite:///{path}"


_database_numbers = itertools.count()


@contextmanager
def postgres_database_url(cluster: PostgresCluster) -> Iterator[str]:
    """A fresh database copied from the cluster's migrated template, dropped afterwards."""
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB} STRATEGY FILE_COPY")
        )
    try:
        yield cluster.url(name, user=APP_ROLE)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
