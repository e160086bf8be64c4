"""SQLite backups are of one moment while others write, and a restore replaces the database
whole, only with a sound spinepath backup, and never under a process that has it open."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spinepath.store import backup, migrate
from spinepath.store.db import Database
from support.database import sqlite_copy_url
from support.database_content import assert_chain_intact, contents, seed, write_one


@pytest.fixture
def source(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    (tmp_path / "live").mkdir()
    database = Database.from_url(sqlite_copy_url(sqlite_template, tmp_path / "live"))
    seed(database)
    yield database
    database.dispose()


def _file(database: Database) -> Path:
    return backup.sqlite_file(str(database.engine.url))


def _open(path: Path) -> Database:
    return Database.from_url(f"sqlite+pysqlite:///{path}")


def _leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if path.name.endswith(".tmp"))


def test_a_backup_is_of_one_moment_while_another_connection_writes(
    source: Database, tmp_path: Path
) -> None:
    before = contents(source)
    writer = Database.from_url(str(source.engine.url))
    reports: list[tuple[int, int]] = []

    def write_between_steps(done: int, total: int) -> None:
        reports.append((done, total))
        write_one(writer, len(reports))

    revision = backup.backup_sqlite(
        _file(source), tmp_path / "b.db", progress=write_between_steps, pages_per_step=2
    )
    writer.dispose()
    assert revision == migrate.head_revision()
    assert len(reports) > 10, "the copy should have taken many steps"
    assert reports[-1][0] == reports[-1][1]
    backup.restore_sqlite(tmp_path / "b.db", tmp_path / "fresh" / "spinepath.db", force=False)
    restored = _open(tmp_path / "fresh" / "spinepath.db")
    # The copy holds the database as it was when the backup began, none of the writes after.
    assert contents(restored) == before
    assert len(contents(source)["audit_events"]) == len(before["audit_events"]) + len(reports)
    assert_chain_intact(restored)
    restored.dispose()


def test_a_backup_stands_alone_and_only_its_owner_can_read_it(
    source: Database, tmp_path: Path
) -> None:
    backup.backup_sqlite(_file(source), tmp_path / "b.db")
    assert (tmp_path / "b.db").stat().st_mode & 0o777 == 0o600
    assert not Path(f"{tmp_path / 'b.db'}-wal").exists()
    assert _leftovers(tmp_path) == []
    with sqlite3.connect(tmp_path / "b.db") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_backup_is_never_written_over_the_database(source: Database) -> None:
    with pytest.raises(backup.BackupError, match="the database itself"):
        backup.backup_sqlite(_file(source), _file(source))
    assert contents(source)["patients"]


def test_a_backup_into_a_missing_directory_is_refused_cleanly(
    source: Database, tmp_path: Path
) -> None:
    with pytest.raises(backup.BackupError, match="cannot be written"):
        backup.backup_sqlite(_file(source), tmp_path / "nowhere" / "b.db")


def test_restoring_over_a_database_needs_force_and_replaces_it_whole(
    source: Database, tmp_path: Path
) -> None:
    backup.backup_sqlite(_file(source), tmp_path / "b.db")
    saved = contents(source)
    write_one(source, 1)
    source.dispose()  # the app is stopped
    with pytest.raises(backup.BackupError, match="pass --force"):
        backup.restore_sqlite(tmp_path / "b.db", _file(source), force=False)
    assert contents(source) != saved
    source.dispose()
    backup.restore_sqlite(tmp_path / "b.db", _file(source), force=True)
    assert contents(source) == saved
    assert_chain_intact(source)
    assert _leftovers(_file(source).parent) == []
    assert not Path(f"{_file(source)}-journal").exists()


def test_a_database_another_process_has_open_is_not_replaced_even_with_force(
    source: Database, tmp_path: Path
) -> None:
    backup.backup_sqlite(_file(source), tmp_path / "b.db")
    write_one(source, 1)
    after = contents(source)  # the pool keeps an idle connection open, as a running app does
    with pytest.raises(backup.BackupError, match="in use by another process"):
        backup.restore_sqlite(tmp_path / "b.db", _file(source), force=True)
    assert contents(source) == after
    assert _leftovers(_file(source).parent) == []


def _rewrite(path: Path, statement: str) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(statement)
    connection.close()


def test_a_backup_at_a_revision_this_version_does_not_know_is_refused(
    source: Database, tmp_path: Path
) -> None:
    backup.backup_sqlite(_file(source), tmp_path / "b.db")
    _rewrite(tmp_path / "b.db", "UPDATE alembic_version SET version_num = '0999_from_the_future'")
    target = tmp_path / "fresh" / "spinepath.db"
    with pytest.raises(backup.BackupError, match="0999_from_the_future, which this version"):
        backup.restore_sqlite(tmp_path / "b.db", target, force=False)
    assert not target.exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: path.write_text("patients,assessments\n"), "not a readable SQLite database"),
        (lambda path: _rewrite(path, "CREATE TABLE notes (text)"), "not a spinepath database"),
        (lambda path: path.write_bytes(b""), "not a spinepath database"),
    ],
    ids=["text", "another-sqlite-database", "empty"],
)
def test_a_file_that_is_not_a_spinepath_backup_is_refused(
    source: Database, tmp_path: Path, make: Any, message: str
) -> None:
    candidate = tmp_path / "candidate.db"
    make(candidate)
    saved = contents(source)
    source.dispose()
    with pytest.raises(backup.BackupError, match=message):
        backup.restore_sqlite(candidate, _file(source), force=True)
    assert contents(source) == saved


def test_a_damaged_backup_is_refused(source: Database, tmp_path: Path) -> None:
    backup.backup_sqlite(_file(source), tmp_path / "b.db")
    data = bytearray((tmp_path / "b.db").read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    data[page_size * 3 : page_size * 3 + 64] = b"\xff" * 64  # a table's page, not the header
    (tmp_path / "b.db").write_bytes(bytes(data))
    with pytest.raises(backup.BackupError, match="is damaged"):
        backup.restore_sqlite(tmp_path / "b.db", tmp_path / "fresh.db", force=False)
    assert not (tmp_path / "fresh.db").exists()


def test_pg_dump_gets_the_password_in_its_environment_never_on_its_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        calls.append((command, options.get("env") or {}))
        if "--file" in command:
            Path(command[command.index("--file") + 1]).write_bytes(b"PGDMP")
        copy = "COPY public.alembic_version (version_num) FROM stdin;\n0003\n\\.\n"
        return subprocess.CompletedProcess(command, 0, stdout=copy, stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(backup, "postgres_tool", lambda name: Path("/opt/pg/bin") / name)
    url = "postgresql+psycopg://spin:s3cret@db.example.org:5433/clinic?sslmode=verify-full"
    assert backup.backup_postgres(url, tmp_path / "b.dump") == "0003"
    assert (tmp_path / "b.dump").read_bytes() == b"PGDMP"
    assert all("s3cret" not in " ".join(command) for command, _env in calls)
    command, env = calls[0]
    assert command == ["/opt/pg/bin/pg_dump", "--format=custom", "--file", command[-1]]
    expected = {
        "PGHOST": "db.example.org",
        "PGPORT": "5433",
        "PGUSER": "spin",
        "PGPASSWORD": "s3cret",
        "PGDATABASE": "clinic",
        "PGSSLMODE": "verify-full",
    }
    assert {name: env.get(name) for name in expected} == expected


def test_a_database_url_option_libpq_has_no_variable_for_is_refused() -> None:
    with pytest.raises(backup.BackupError, match="'prepare_threshold'"):
        backup.libpq_environment("postgresql+psycopg://u@h/d?prepare_threshold=0")
