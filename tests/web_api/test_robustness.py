"""Load and crash safety against a real `spinepath serve` (2 workers) on both databases.

- 200 concurrent submissions: every acknowledged one is stored, none twice.
- SIGKILL mid-load: every submission acknowledged before the kill is in the database and the
  database is consistent afterwards.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import text

from spinepath.settings import Settings
from spinepath.store.db import Database
from spinepath.store.models import AssessmentRecord
from support.intakes import low_back_pain
from support.live_server import LiveServer, live_server
from support.web import TEST_SECRET, World

pytestmark = pytest.mark.slow

SUBMISSIONS = 200


def server_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {
        "SPINEPATH_ENVIRONMENT": "test",
        "SPINEPATH_SECRET_KEY": TEST_SECRET,
        "SPINEPATH_DATABASE_URL": settings.database_url,
        "SPINEPATH_DATA_DIR": str(tmp_path),
    }


def submit(client: httpx2.Client, server: LiveServer, world: World, marker: str) -> int:
    response = client.post(
        f"{server.url}/api/v1/patients/{world.patient_a.id}/assessments",
        json=low_back_pain(what_matters_note=marker),
        headers={"Authorization": f"Bearer {world.token_a}"},
    )
    return response.status_code


def stored_markers(database: Database) -> list[str]:
    with database.session() as session:
        return [
            record.intake["what_matters_note"] for record in session.query(AssessmentRecord).all()
        ]


def check_consistent(database: Database) -> None:
    with database.session() as session:
        if database.is_sqlite:
            assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert session.execute(text("PRAGMA foreign_key_check")).all() == []
        orphans = session.execute(
            text(
                "SELECT count(*) FROM assessments a LEFT JOIN patients p ON p.id = a.patient_id "
                "WHERE p.id IS NULL"
            )
        ).scalar()
        assert orphans == 0


def submit_concurrently(server: LiveServer, world: World, markers: list[str]) -> list[int]:
    limits = httpx2.Limits(max_connections=len(markers))
    with (
        httpx2.Client(limits=limits, timeout=60) as client,
        ThreadPoolExecutor(max_workers=len(markers)) as pool,
    ):
        return list(pool.map(lambda marker: submit(client, server, world, marker), markers))


def load_until_killed(server: LiveServer, world: World, acknowledgements: int) -> list[str]:
    """Submits from 16 threads; SIGKILLs the server once enough submissions were acknowledged."""
    acknowledged: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()
    stop = threading.Event()

    def keep_submitting(client: httpx2.Client) -> None:
        while not stop.is_set():
            marker = uuid.uuid4().hex
            try:
                status = submit(client, server, world, marker)
            except httpx2.TransportError:
                continue
            if status == 201:
                with lock:
                    acknowledged.append(marker)
                    if len(acknowledged) >= acknowledgements:
                        enough.set()

    with httpx2.Client(timeout=10) as client, ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(16):
            pool.submit(keep_submitting, client)
        assert enough.wait(timeout=60), "the server acknowledged too few submissions"
        server.kill()
        stop.set()
    with lock:
        return list(acknowledged)


def test_concurrent_submissions_are_all_kept_even_when_the_server_is_killed(
    settings: Settings, database: Database, world: World, tmp_path: Path
) -> None:
    markers = [uuid.uuid4().hex for _ in range(SUBMISSIONS)]
    with live_server(server_env(settings, tmp_path)) as server:
        # 200 at once: every one acknowledged and stored, none twice.
        assert submit_concurrently(server, world, markers) == [201] * SUBMISSIONS
        assert sorted(stored_markers(database)) == sorted(markers)

        # Then SIGKILL mid-load: nothing acknowledged is lost, the database stays consistent.
        acknowledged = load_until_killed(server, world, acknowledgements=40)
    stored = stored_markers(database)
    assert set(acknowledged) <= set(stored)
    assert len(stored) == len(set(stored))
    check_consistent(database)
