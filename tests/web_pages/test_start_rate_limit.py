"""Starting a questionnaire is the one write anyone can make without a link or an account, so it
is rate-limited per client address and in total, with the count shared through the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import time_machine
from fastapi.testclient import TestClient

from spinepath.store.db import Database
from spinepath.store.models import Patient
from support.web import create_test_app, make_settings

MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(database_url: str, tmp_path: Path) -> Iterator[MakeClient]:
    clients: list[TestClient] = []

    def make(**limits: int) -> TestClient:
        settings = make_settings(database_url, tmp_path, **limits)
        client = TestClient(create_test_app(settings))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _start(client: TestClient) -> int:
    return client.post("/start", follow_redirects=False).status_code


def _patients(database: Database) -> int:
    with database.session() as session:
        return session.query(Patient).count()


def test_one_address_may_start_only_so_many(make_client: MakeClient, database: Database) -> None:
    client = make_client(start_rate_limit=3)
    assert [_start(client) for _ in range(3)] == [303, 303, 303]
    refused = client.post("/start", follow_redirects=False)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "3600"
    assert _patients(database) == 3  # the refused start left nothing behind


def test_all_addresses_together_are_limited_too(make_client: MakeClient) -> None:
    client = make_client(start_rate_limit=100, start_rate_limit_total=2)
    assert [_start(client) for _ in range(3)] == [303, 303, 429]


def test_every_worker_shares_the_count(make_client: MakeClient) -> None:
    first, second = make_client(start_rate_limit=2), make_client(start_rate_limit=2)
    assert [_start(first), _start(second), _start(first)] == [303, 303, 429]


def test_starting_is_allowed_again_once_the_window_has_passed(make_client: MakeClient) -> None:
    with time_machine.travel(dt.datetime(2030, 1, 1, tzinfo=dt.UTC), tick=False) as traveller:
        client = make_client(start_rate_limit=1, start_rate_window_seconds=600)
        assert [_start(client), _start(client)] == [303, 429]
        traveller.shift(dt.timedelta(seconds=601))
        assert _start(client) == 303
