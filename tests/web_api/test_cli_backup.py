"""`spinepath db backup` and `db restore` on SQLite and on PostgreSQL: a backup taken while the
app writes restores to one consistent moment, with the audit log's chain intact; a backup this
version cannot use is refused and nothing is changed."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import typer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from spinepath.store import backup
from spinepath.store.db import Database
from support.database import owner_url
from support.database_content import assert_chain_intact, cli_env, contents, seed, write_one
from web_api.web_cli import run

_fresh_names = itertools.count()


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """Backing up and restoring are the database owner's jobs, not the app's."""
    return cli_env(owner_url(database_url), tmp_path)


@contextmanager
def fresh_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty place to restore into on the same backend: a file not made yet, or an empty
    PostgreSQL database on the same server, the owner's to restore into."""
    url = make_url(owner_url(database_url))
    if url.get_backend_name() == "sqlite":
        yield f"sqlite+pysqlite:///{tmp_path / 'restored' / 'spinepath.db'}"
        return
    name = f"restored_{next(_fresh_names)}_{url.database}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE template0"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@contextmanager
def writing(database_url: str) -> Iterator[list[int]]:
    """Another connection writing patients and audit rows until the block ends; yields how many
    it wrote (the list grows as it goes)."""
    writer = Database.from_url(database_url)
    written: list[int] = []
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            write_one(writer, len(written))
            written.append(len(written))

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(written) < 5:
            stop.wait(0.01)
        yield written
    finally:
        stop.set()
        thread.join()
        writer.dispose()


def test_a_backup_taken_while_the_app_writes_restores_to_one_moment(
    cli: typer.Typer, env: dict[str, str], database: Database, database_url: str, tmp_path: Path
) -> None:
    seed(database)
    with writing(database_url) as written:
        before = len(written)
        code, output = run(cli, env, "db", "backup", str(tmp_path / "spinepath.backup"))
        during = len(written) - before
    assert code == 0, output
    assert "backed up" in output
    assert during > 0, "the other connection should have been writing during the backup"
    source = contents(database)
    with fresh_database(database_url, tmp_path) as fresh_url:
        code, output = run(
            cli, cli_env(fresh_url, tmp_path), "db", "restore", str(tmp_path / "spinepath.backup")
        )
        assert code == 0, output
        restored_database = Database.from_url(fresh_url)
        restored = contents(restored_database)
        assert_chain_intact(restored_database)
        restored_database.dispose()
        assert run(cli, cli_env(fresh_url, tmp_path), "audit", "verify")[0] == 0
    # Every table but the two the writer adds to is exactly as it is in the source; those two
    # hold the source's first rows, each written patient with its audit row.
    growing = {"patients", "audit_events"}
    assert {k: v for k, v in restored.items() if k not in growing} == {
        k: v for k, v in source.items() if k not in growing
    }
    audit = restored["audit_events"]
    assert audit == source["audit_events"][: len(audit)]
    assert set(restored["patients"]) <= set(source["patients"])
    written_patients = [row for row in restored["patients"] if str(row[3]).startswith("W")]
    assert len(written_patients) == sum(1 for row in audit if row[4] == "write")


def test_restoring_over_an_existing_database_needs_force(
    cli: typer.Typer, env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    seed(database)
    assert run(cli, env, "db", "backup", str(tmp_path / "b"))[0] == 0
    saved = contents(database)
    write_one(database, 1)
    database.dispose()  # the app is stopped
    code, output = run(cli, env, "db", "restore", str(tmp_path / "b"))
    assert code == 1
    assert "pass --force" in output
    assert contents(database) != saved
    database.dispose()
    code, output = run(cli, env, "db", "restore", "--force", str(tmp_path / "b"))
    assert code == 0, output
    assert contents(database) == saved
    assert_chain_intact(database)


def test_a_backup_at_a_revision_this_version_does_not_know_is_refused(
    cli: typer.Typer,
    env: dict[str, str],
    database: Database,
    owner_database: Database,
    database_url: str,
    tmp_path: Path,
) -> None:
    seed(database)
    with owner_database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999_future'"))
    code, output = run(cli, env, "db", "backup", str(tmp_path / "b"))
    assert code == 0, output
    assert "0999_future" in output
    with fresh_database(database_url, tmp_path) as fresh_url:
        code, output = run(cli, cli_env(fresh_url, tmp_path), "db", "restore", str(tmp_path / "b"))
        assert code == 1
        assert "0999_future, which this version of spinepath does not know" in output
        assert _is_empty(fresh_url)


@pytest.mark.parametrize(
    "content", [b"patients,assessments\n", b"SQLite format 3\x00" + b"\x00" * 200], ids=str
)
def test_a_file_that_is_not_a_spinepath_backup_is_refused(
    cli: typer.Typer, database_url: str, tmp_path: Path, content: bytes
) -> None:
    (tmp_path / "b").write_bytes(content)
    with fresh_database(database_url, tmp_path) as fresh_url:
        code, output = run(cli, cli_env(fresh_url, tmp_path), "db", "restore", str(tmp_path / "b"))
        assert code == 1
        assert "not a" in output
        assert "Traceback" not in output
        assert _is_empty(fresh_url)


def _is_empty(url: str) -> bool:
    if make_url(url).get_backend_name() == "sqlite":
        return not Path(backup.sqlite_file(url)).exists()
    engine = create_engine(url)
    with engine.connect() as connection:
        tables: int = connection.execute(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        ).scalar_one()
    engine.dispose()
    return tables == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_large_sqlite_backup_shows_its_progress(
    cli: typer.Typer,
    env: dict[str, str],
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(database)
    monkeypatch.setattr(backup, "PAGES_PER_STEP", 4)
    code, output = run(cli, env, "db", "backup", str(tmp_path / "b"))
    assert code == 0, output
    steps = re.findall(r"backing up: (\d+)% \(([\d,]+) of ([\d,]+) pages\)", output)
    assert len(steps) > 5
    assert steps[-1][0] == "100"
    assert steps[-1][1] == steps[-1][2]


def test_without_pg_dump_backup_exits_2_naming_what_to_install(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "POSTGRES_LIB", tmp_path / "no-postgresql")
    env = {
        **cli_env("postgresql+psycopg://spinepath:s3cret-pw@db.example.org/spinepath", tmp_path),
        "PATH": str(tmp_path / "empty"),
    }
    code, output = run(cli, env, "db", "backup", str(tmp_path / "b"))
    assert code == 2
    assert "pg_dump is not on PATH" in output
    assert "postgresql-client" in output
    assert "s3cret-pw" not in output
    assert not (tmp_path / "b").exists()
