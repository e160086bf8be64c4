"""A database that cannot be written (read-only, disk full) or reached gives a clear answer, never
a traceback, and what is already stored stays whole.

Tests run as root, whom file permissions do not stop, so the faults are made inside SQLite
(``PRAGMA query_only``, ``PRAGMA max_page_count``) or with a file size limit (RLIMIT_FSIZE, the
error a full disk gives).
"""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.store.backup import sqlite_file
from spinepath.store.db import Database
from spinepath.web.errors import DATABASE_UNAVAILABLE
from support.database_content import cli_env, contents, seed
from support.intakes import low_back_pain
from support.live_server import SPINEPATH
from support.web import World, create_test_app

FILE_SIZE_LIMIT_BYTES = 64 * 1024

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _app_with(settings: Settings, faults: list[str]) -> tuple[TestClient, Engine]:
    """The app, each of whose new database connections first runs the pragmas in ``faults``."""
    app = create_test_app(settings)
    engine: Engine = app.state.database.engine

    @event.listens_for(engine, "connect")
    def _fault(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        for pragma in faults:
            dbapi_connection.execute(f"PRAGMA {pragma}")

    return TestClient(app), engine


def _integrity(database: Database) -> str:
    with database.engine.connect() as connection:
        return str(connection.exec_driver_sql("PRAGMA integrity_check").scalar())


def _bearer(world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.token_a}"}


@sqlite_only
def test_a_read_only_database_answers_503_and_keeps_its_data(
    settings: Settings, database: Database, world: World
) -> None:
    before = contents(database)
    client, _engine = _app_with(settings, ["query_only=ON"])
    with client:
        response = client.post(
            f"/api/v1/patients/{world.patient_a.id}/notes",
            json={"text": "x"},
            headers=_bearer(world),
        )
        assert response.status_code == 503
        assert response.json() == {"errors": [{"field": None, "message": DATABASE_UNAVAILABLE}]}
        page = client.get(f"/p/{world.patient_a.link_token}")
        assert page.status_code == 503
        assert DATABASE_UNAVAILABLE in page.text
        # What needs no database goes on working.
        assert client.post("/api/v1/assessments", json=low_back_pain()).status_code == 200
    assert contents(database) == before
    assert _integrity(database) == "ok"


@sqlite_only
def test_a_full_disk_answers_503_keeps_every_acknowledged_write_and_recovers(
    settings: Settings, database: Database, world: World
) -> None:
    with database.engine.connect() as connection:
        pages = int(connection.exec_driver_sql("PRAGMA page_count").scalar_one())
    faults = [f"max_page_count={pages}"]
    client, engine = _app_with(settings, faults)
    notes = f"/api/v1/patients/{world.patient_a.id}/notes"
    with client:
        answers = [
            client.post(notes, json={"text": f"{n} " + "x" * 9000}, headers=_bearer(world))
            for n in range(20)
        ]
        codes = {answer.status_code for answer in answers}
        assert 503 in codes
        assert codes <= {201, 503}
        assert DATABASE_UNAVAILABLE in answers[-1].text
        acknowledged = [answer.json()["text"] for answer in answers if answer.status_code == 201]
        # Even reads may fail now (each writes an audit row), so look from outside the app.
        with database.session() as session:
            patient = repository.patient_by_id(session, world.patient_a.id)
            assert patient is not None
            stored = [note.text for note in repository.list_notes(session, patient)]
        assert stored == acknowledged
        assert _integrity(database) == "ok"
        faults.clear()  # space is freed
        engine.dispose()
        assert client.post(notes, json={"text": "later"}, headers=_bearer(world)).status_code == 201


def _spinepath_limited(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`spinepath ARGS` in a process that cannot make a file larger than 64 KiB, as on a full
    disk (Python ignores SIGXFSZ, so the write fails with an error instead of killing it)."""
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({FILE_SIZE_LIMIT_BYTES}, "
        f"{resource.RLIM_INFINITY}))\n"
        "from spinepath.cli import main\n"
        f"sys.argv = ['spinepath', *{list(args)!r}]\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@sqlite_only
def test_a_backup_or_restore_on_a_full_disk_fails_cleanly_and_changes_nothing(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    seed(database)
    before = contents(database)
    env = cli_env(settings.database_url, settings.data_dir)
    old_backup = tmp_path / "backups" / "spinepath.backup"
    old_backup.parent.mkdir()
    old_backup.write_bytes(b"yesterday's backup")
    assert sqlite_file(settings.database_url).stat().st_size > FILE_SIZE_LIMIT_BYTES

    done = _spinepath_limited(env, "db", "backup", str(old_backup))
    assert done.returncode == 1, done.stderr
    assert "error: the copy failed" in done.stderr
    assert "Traceback" not in done.stderr
    assert old_backup.read_bytes() == b"yesterday's backup"
    assert sorted(p.name for p in old_backup.parent.iterdir()) == ["spinepath.backup"]

    good_backup = tmp_path / "backups" / "good.backup"
    subprocess.run(
        [str(SPINEPATH), "db", "backup", str(good_backup)],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    fresh = tmp_path / "fresh" / "spinepath.db"
    done = _spinepath_limited(
        cli_env(f"sqlite+pysqlite:///{fresh}", settings.data_dir), "db", "restore", str(good_backup)
    )
    assert done.returncode == 1, done.stderr
    assert "error: the copy failed" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in fresh.parent.iterdir()) == []
    assert contents(database) == before
    assert _integrity(database) == "ok"


def test_serve_names_a_database_it_cannot_reach(tmp_path: Path) -> None:
    no_server = f"postgresql+psycopg://spinepath@/spinepath?host={tmp_path / 'none'}&port=5432"
    done = subprocess.run(
        [str(SPINEPATH), "serve", "--port", "1"],
        env={**os.environ, **cli_env(no_server, tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "error: the database is not available" in done.stderr
    assert "Traceback" not in done.stderr
