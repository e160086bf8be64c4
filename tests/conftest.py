"""Shared fixtures: every database test runs on SQLite and on a throwaway PostgreSQL 15 cluster.

The implementations are in tests/support (``database`` for the databases, ``web`` for the app
and the people in it, ``cli`` for the command runner).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from spinepath.settings import Settings
from spinepath.store.db import Database
from support import database as test_databases
from support.cli import cli_runner
from support.mail import SmtpServer, smtp_server
from support.summaries import collect_worker_reports, write_reports
from support.web import (
    SESSION_COOKIE,
    Person,
    World,
    create_test_app,
    make_settings,
    make_world,
    session_cookie,
)
from support.webhooks import Receiver, webhook_receiver


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist, on the controller: keep the reports a worker left."""
    collect_worker_reports(node.config, getattr(node, "workeroutput", {}))


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    write_reports(terminalreporter, config)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[test_databases.PostgresCluster | None]:
    yield from test_databases.postgres_cluster()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return test_databases.migrated_sqlite_file(
        tmp_path_factory.mktemp("sqlite-template") / "template.db"
    )


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
        yield test_databases.sqlite_copy_url(sqlite_template, tmp_path)
        return
    cluster: test_databases.PostgresCluster | None = request.getfixturevalue("postgres_cluster")
    if cluster is None:
        pytest.skip(f"{test_databases.SKIP_POSTGRES}=1")
    with test_databases.postgres_database_url(cluster) as url:
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = Database.from_settings(settings)
    yield db
    db.dispose()


@pytest.fixture
def owner_database(database_url: str) -> Iterator[Database]:
    """The test database as its owner: for tests that play someone with more rights than the
    app (on SQLite, the same file)."""
    db = Database.from_url(test_databases.owner_url(database_url))
    yield db
    db.dispose()


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_test_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def world(database: Database) -> World:
    return make_world(database)


@pytest.fixture
def sign_in_as(
    client: TestClient, settings: Settings, database: Database
) -> Callable[[Person | None], TestClient]:
    """Makes ``client`` carry the session of ``person`` (or no session for None)."""

    def sign_in(person: Person | None) -> TestClient:
        client.cookies.clear()
        if person is not None:
            client.cookies.set(SESSION_COOKIE, session_cookie(database, settings, person.id))
        return client

    return sign_in


@pytest.fixture
def runner() -> CliRunner:
    return cli_runner()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    """A real SMTP server on loopback (STARTTLS required) that keeps what it receives."""
    with smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback that keeps each POST."""
    with webhook_receiver() as found:
        yield found
