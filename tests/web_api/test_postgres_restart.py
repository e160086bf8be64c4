"""PostgreSQL restarted while the app is serving: during the outage requests get a 503, never a
traceback or a hang; afterwards the app recovers by itself, and every write it acknowledged is
still there."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import create_engine, text

from spinepath.store import migrate, repository
from spinepath.store.db import Database
from support import database as test_databases
from support.browser import LiveServer
from support.web import create_test_app, make_settings

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def own_cluster() -> Iterator[test_databases.PostgresCluster]:
    """A cluster of this test's own, so stopping it disturbs no other test."""
    if not (test_databases.PG_BIN / "initdb").exists():
        pytest.skip(f"{test_databases.SKIP_POSTGRES}=1")
    cluster = test_databases._start_cluster()
    try:
        yield cluster
    finally:
        test_databases._stop_cluster(cluster)


def _pg_ctl(cluster: test_databases.PostgresCluster, *args: str) -> None:
    command = [str(test_databases.PG_BIN / "pg_ctl"), "-D", str(cluster.base / "data"), *args]
    subprocess.run(test_databases._as_postgres_user(command), check=True, capture_output=True)


def test_the_app_answers_503_while_postgres_is_down_and_recovers_without_losing_writes(
    own_cluster: test_databases.PostgresCluster, tmp_path: Path
) -> None:
    admin = create_engine(own_cluster.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE restart_test"))
    admin.dispose()
    url = own_cluster.url("restart_test")
    database = Database.from_url(url)
    migrate.upgrade(database)
    database.dispose()
    settings = make_settings(url, tmp_path, start_rate_limit=100_000)
    server = LiveServer(create_test_app(settings))
    server.start()
    acknowledged: list[str] = []
    statuses: list[int] = []
    stop = threading.Event()

    def patients_arrive() -> None:
        with httpx2.Client(base_url=server.url, timeout=20) as client:
            while not stop.is_set():
                try:
                    response = client.post("/start", follow_redirects=False)
                except httpx2.TransportError:
                    statuses.append(0)
                    continue
                statuses.append(response.status_code)
                if response.status_code == 303:
                    acknowledged.append(response.headers["location"].split("/")[2])
                time.sleep(0.02)

    load = threading.Thread(target=patients_arrive)
    load.start()
    try:
        time.sleep(1.0)
        _pg_ctl(own_cluster, "-m", "fast", "-w", "stop")
        time.sleep(1.5)
        during = len(statuses)
        options = (
            f"-k {own_cluster.socket_dir} -p {test_databases.PG_PORT} -c listen_addresses='' "
            "-c fsync=off"
        )
        _pg_ctl(own_cluster, "-l", str(own_cluster.base / "log"), "-w", "-o", options, "start")
        time.sleep(2.0)
    finally:
        stop.set()
        load.join(timeout=60)
        server.stop()
    outage = statuses[:during]
    assert 503 in outage, sorted(set(outage))
    assert 500 not in statuses
    assert statuses[-5:] == [303] * 5  # recovered without a restart
    database = Database.from_url(url)
    with database.session() as session:
        missing = [
            link for link in acknowledged if repository.patient_by_link(session, link) is None
        ]
    database.dispose()
    assert acknowledged
    assert missing == []  # every start the app acknowledged is stored
