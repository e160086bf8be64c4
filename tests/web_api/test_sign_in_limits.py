"""Failed sign-ins are counted one after another even when they arrive together, and after the
allowed failures each further one doubles the wait instead of locking the account for a fixed
time."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import time_machine
from fastapi.testclient import TestClient

from support.browser import LiveServer
from support.web import PASSWORD, World, create_test_app, make_settings

LIMIT = 2
START = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def strict(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(database_url, tmp_path, login_rate_limit=LIMIT)
    with TestClient(create_test_app(settings)) as client:
        yield client


def _login(client: TestClient, email: str, password: str) -> httpx2.Response:
    return client.post(
        "/login", data={"email": email, "password": password}, follow_redirects=False
    )


def test_each_failure_beyond_the_limit_doubles_the_wait(strict: TestClient, world: World) -> None:
    email = world.clinician_a.email
    with time_machine.travel(START, tick=False) as traveller:
        assert [_login(strict, email, "wrong!").status_code for _ in range(LIMIT)] == [401, 401]
        held = _login(strict, email, PASSWORD)
        assert held.status_code == 429
        assert held.headers["retry-after"] == "1"
        traveller.shift(dt.timedelta(seconds=1))
        assert _login(strict, email, "wrong again").status_code == 401  # tried, and failed
        held = _login(strict, email, PASSWORD)
        assert (held.status_code, held.headers["retry-after"]) == (429, "2")
        traveller.shift(dt.timedelta(seconds=2))
        assert _login(strict, email, PASSWORD).status_code == 303  # the owner gets in


def test_the_wait_never_exceeds_the_window(strict: TestClient, world: World) -> None:
    email = world.clinician_a.email
    window = 900
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(16):
            response = _login(strict, email, "wrong!")
            if response.status_code == 429:
                traveller.shift(dt.timedelta(seconds=int(response.headers["retry-after"])))
        held = _login(strict, email, PASSWORD)
        assert held.status_code == 429
        assert int(held.headers["retry-after"]) <= window
        traveller.shift(dt.timedelta(seconds=window + 1))
        assert _login(strict, email, PASSWORD).status_code == 303


def test_concurrent_wrong_passwords_are_checked_no_more_than_the_limit_allows(
    database_url: str, tmp_path: Path, world: World
) -> None:
    settings = make_settings(database_url, tmp_path, login_rate_limit=LIMIT)
    server = LiveServer(create_test_app(settings))
    # The clock stands still, so no wait ever runs out while the attempts are queued.
    with time_machine.travel(START, tick=False):
        server.start()
        try:
            codes: list[int] = []
            lock = threading.Lock()
            gate = threading.Barrier(8)

            def attempt() -> None:
                gate.wait()
                response = httpx2.post(
                    f"{server.url}/login",
                    data={"email": world.clinician_a.email, "password": "wrong password!"},
                    timeout=60,
                )
                with lock:
                    codes.append(response.status_code)

            threads = [threading.Thread(target=attempt) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            server.stop()
    assert sorted(codes) == [401] * LIMIT + [429] * (8 - LIMIT)
