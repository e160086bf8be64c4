"""Backing up the database and restoring a backup, on SQLite and on PostgreSQL.

SQLite: the backup API copies the database page by page inside one read transaction, so the copy
is of one moment even while the app goes on writing (WAL lets a reader and writers proceed
together). A restore copies the backup beside the database and renames it over it, so the
database is either the old one or the new one, never a mixture.

PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot) and ``pg_restore`` in a single
transaction. The connection comes from the database URL through libpq's environment variables,
so the password never appears on a command line (where ``ps`` shows it to every user).

A backup is written to a temporary file beside its target and renamed over it once complete and
on disk: a failed backup leaves no file and never a partial one in place of an older backup.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from urllib.parse import quote

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from spinepath.durable import sync_directory
from spinepath.store import migrate
from spinepath.store.db import SQLITE_BUSY_TIMEOUT_MS, Database

Progress = Callable[[int, int], None]
"""Called as the copy goes on with (pages copied, pages in all)."""

PAGES_PER_STEP = 1024
"""Pages copied per step of an SQLite backup (4 MiB at the default page size); the progress
callback runs after each step."""

IN_USE_WAIT_SECONDS = 2.0
"""How long a restore waits for another process to let go of the database it would replace."""

POSTGRES_LIB = Path("/usr/lib/postgresql")
"""Where Debian and Ubuntu install each PostgreSQL version's programs (``15/bin/pg_dump``)."""

LIBPQ_ENVIRONMENT = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "client_encoding": "PGCLIENTENCODING",
    "sslmode": "PGSSLMODE",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcrl": "PGSSLCRL",
    "channel_binding": "PGCHANNELBINDING",
    "gssencmode": "PGGSSENCMODE",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}
"""libpq's connection keywords and the environment variables that set them."""

_SIDECARS = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what was left as it was."""


class ToolMissingError(BackupError):
    """A program the backup needs (pg_dump, pg_restore) is not installed."""


def sqlite_file(url: str) -> Path:
    """The database file of an SQLite URL."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("the SQLite database is in memory: there is no file to back up")
    return Path(database)


def check_revision(revision: str | None, source: Path) -> str:
    """``revision`` when this version of spinepath knows it; else why ``source`` is refused."""
    if revision is None:
        raise BackupError(f"{source} is not a spinepath database (it has no schema revision)")
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    if revision not in {script.revision for script in scripts.walk_revisions()}:
        raise BackupError(
            f"{source} is at schema revision {revision}, which this version of spinepath does "
            "not know (a newer version made it): install that version to restore it"
        )
    return revision


# SQLite


def backup_sqlite(
    database: Path,
    target: Path,
    progress: Progress | None = None,
    pages_per_step: int | None = None,
) -> str | None:
    """Copies ``database`` to ``target`` while others may write to it; returns its revision."""
    _refuse_same_file(target, database, "the database itself")
    source = _connect_sqlite(database, "rw")
    try:
        with _temp_beside(target) as temp:
            # One read transaction for the whole copy: its snapshot stays fixed however much the
            # app writes meanwhile, so the steps never start over and the copy is of one moment.
            source.execute("BEGIN")
            source.execute("SELECT count(*) FROM sqlite_schema").fetchone()
            revision = _revision(source)
            _copy(source, temp, progress, pages_per_step or PAGES_PER_STEP)
            source.execute("COMMIT")
            _install(temp, target)
    finally:
        source.close()
    return revision


def sqlite_backup_revision(backup: Path) -> str:
    """The schema revision of an SQLite backup, once it has proved sound and spinepath's own."""
    connection = _connect_sqlite(backup, "ro")
    try:
        if connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(f"{backup} is damaged (SQLite's quick_check failed)")
        return check_revision(_revision(connection), backup)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{backup} is damaged ({error})") from None
    finally:
        connection.close()


def restore_sqlite(backup: Path, database: Path, *, force: bool) -> str:
    """Replaces ``database`` with the SQLite backup ``backup``; returns the backup's revision.

    An existing database is replaced only with ``force``, and never while another process has
    it open.
    """
    _refuse_same_file(backup, database, "the database to restore into")
    revision = sqlite_backup_revision(backup)
    if database.exists() and not force:
        raise BackupError(
            f"{database} exists and restoring replaces everything in it; stop spinepath serve "
            "and pass --force to replace it"
        )
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"{database.parent} cannot be made ({error.strerror or error})") from None
    source = _connect_sqlite(backup, "ro")
    try:
        with _temp_beside(database) as temp:
            _copy(source, temp, None, -1)
            with _exclusive(database):
                # A stale WAL or rollback journal beside the path would be applied to the
                # restored file when it is next opened.
                for suffix in _SIDECARS:
                    Path(f"{database}{suffix}").unlink(missing_ok=True)
                _install(temp, database)
    finally:
        source.close()
    return revision


def _connect_sqlite(path: Path, mode: str) -> sqlite3.Connection:
    # mode=rw and mode=ro never create a missing file, as a plain connect would.
    if not path.is_file():
        raise BackupError(f"{path}: no such database file")
    try:
        connection = sqlite3.connect(
            f"file:{quote(str(path.resolve()))}?mode={mode}",
            uri=True,
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
        )
        connection.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable SQLite database ({error})") from None
    return connection


def _revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no such table
        return None
    return str(row[0]) if row else None


def _copy(source: sqlite3.Connection, temp: Path, progress: Progress | None, pages: int) -> None:
    def report(_status: int, remaining: int, total: int) -> None:
        if progress is not None:
            progress(total - remaining, total)

    copy = sqlite3.connect(temp, isolation_level=None)
    try:
        source.backup(copy, pages=pages, progress=report)
        # The copy is one self-contained file: no -wal or -shm is needed beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
        if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError("the copy failed SQLite's quick_check; nothing was replaced")
    except sqlite3.Error as error:
        raise BackupError(f"the copy failed ({error}); nothing was replaced") from None
    finally:
        copy.close()


@contextlib.contextmanager
def _exclusive(database: Path) -> Iterator[None]:
    """Holds ``database`` so that no other process can read or write it; nothing if it is absent.

    Leaving WAL mode needs every other connection closed (an idle one of a running app too), and
    the exclusive lock then keeps newcomers out until the file is replaced.
    """
    if not database.exists():
        yield
        return
    connection = sqlite3.connect(database, timeout=IN_USE_WAIT_SECONDS, isolation_level=None)
    try:
        try:
            mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
            connection.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise BackupError(f"{database} cannot be replaced ({error})") from None
            mode = "locked"
        except sqlite3.DatabaseError:
            # Not an SQLite file at all (a damaged database): no SQLite process can be using it.
            mode = "delete"
        if mode != "delete":
            raise BackupError(
                f"{database} is in use by another process (is spinepath serve running?); stop "
                "it first: nothing was restored"
            )
        yield
    finally:
        connection.close()


# PostgreSQL


def postgres_tool(name: str) -> Path:
    """``pg_dump`` or ``pg_restore``: from PATH, else from the newest ``/usr/lib/postgresql``."""
    found = shutil.which(name)
    if found:
        return Path(found)
    versions = [
        path for path in POSTGRES_LIB.glob(f"*/bin/{name}") if path.parents[1].name.isdigit()
    ]
    if versions:
        return max(versions, key=lambda path: int(path.parents[1].name))
    raise ToolMissingError(
        f"{name} is not on PATH nor in {POSTGRES_LIB}/*/bin: install the PostgreSQL client "
        "programs of the server's version or newer (on Debian and Ubuntu: apt-get install "
        "postgresql-client-15)"
    )


def libpq_environment(url: str) -> dict[str, str]:
    """The environment variables that connect libpq's programs where ``url`` points."""
    parsed = make_url(url)
    values: dict[str, object] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "dbname": parsed.database,
    }
    for key, value in parsed.query.items():
        if key not in LIBPQ_ENVIRONMENT:
            raise BackupError(
                f"the database URL's option {key!r} cannot be passed to pg_dump and pg_restore"
            )
        values[key] = value if isinstance(value, str) else ",".join(value)
    return {LIBPQ_ENVIRONMENT[key]: str(value) for key, value in values.items() if value}


def backup_postgres(url: str, target: Path) -> str | None:
    """Dumps the database at ``url`` to ``target`` (custom format); returns its revision."""
    pg_dump = postgres_tool("pg_dump")
    with _temp_beside(target) as temp:
        _run([str(pg_dump), "--format=custom", "--file", str(temp)], url)
        # Reading the revision back proves that pg_restore can read the archive.
        revision = _dump_revision(temp)
        _install(temp, target)
    return revision


def restore_postgres(url: str, backup: Path, *, force: bool) -> str:
    """Replaces the contents of the database at ``url`` with a ``pg_dump`` archive, all or nothing.

    A database that already holds spinepath's tables is replaced only with ``force``.
    """
    pg_restore = postgres_tool("pg_restore")
    revision = check_revision(_dump_revision(backup), backup)
    database = Database.from_url(url)
    try:
        existing = migrate.current_revision(database)
    except SQLAlchemyError as error:
        reason = getattr(error, "orig", None) or error
        raise BackupError(f"the database cannot be reached ({reason})") from None
    finally:
        database.dispose()
    if existing is not None and not force:
        raise BackupError(
            f"the database {make_url(url).database} holds spinepath data (revision {existing}) "
            "and restoring replaces all of it; stop spinepath serve and pass --force"
        )
    name = (make_url(url).database or "").replace("\\", "\\\\").replace("'", "\\'")
    _run(
        [
            *(str(pg_restore), "--clean", "--if-exists", "--no-owner", "--single-transaction"),
            *("--dbname", f"dbname='{name}'", str(backup)),
        ],
        url,
    )
    return revision


_COPY_REVISION = re.compile(r"^COPY \S*alembic_version \(version_num\) FROM stdin;\n(.*?)\n", re.M)


def _dump_revision(archive: Path) -> str | None:
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    pg_restore = postgres_tool("pg_restore")
    data = subprocess.run(  # noqa: S603 - a fixed program and arguments, no shell
        [str(pg_restore), "--data-only", "--table=alembic_version", "--file=-", str(archive)],
        capture_output=True,
        text=True,
        check=False,
    )
    if data.returncode != 0:
        raise BackupError(
            f"{archive} is not a pg_dump archive in custom format ({data.stderr.strip()})"
        )
    found = _COPY_REVISION.search(data.stdout)
    return found.group(1) if found and found.group(1) != "\\." else None


def _run(command: list[str], url: str) -> None:
    environment: Mapping[str, str] = {**os.environ, **libpq_environment(url)}
    done = subprocess.run(  # noqa: S603 - a fixed program and arguments, no shell
        command, env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        program = Path(command[0]).name
        raise BackupError(
            f"{program} failed (exit status {done.returncode}): {done.stderr.strip()}; "
            "nothing was replaced"
        )


# Files


def _refuse_same_file(path: Path, other: Path, what: str) -> None:
    with contextlib.suppress(OSError):
        if path.samefile(other):
            raise BackupError(f"{path} is {what}: give another file")


@contextlib.contextmanager
def _temp_beside(target: Path) -> Iterator[Path]:
    """A new file in ``target``'s directory (so a rename onto ``target`` is atomic), removed
    with any journal of its own unless :func:`_install` moved it into place.

    It is readable by its owner only: a backup holds every patient's data.
    """
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise BackupError(f"{target} cannot be written ({error.strerror or error})") from None
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
    except OSError as error:
        raise BackupError(f"{target} cannot be written ({error.strerror or error})") from None
    finally:
        for suffix in ("", *_SIDECARS):
            Path(f"{temp}{suffix}").unlink(missing_ok=True)


def _install(temp: Path, target: Path) -> None:
    """Puts the complete file ``temp`` in place of ``target``, on disk before it returns."""
    with temp.open("rb+") as handle:
        os.fsync(handle.fileno())
    if target.exists():
        # A replaced database keeps its permissions, so the app's user can still open it.
        temp.chmod(target.stat().st_mode & 0o7777)
    temp.replace(target)
    sync_directory(target.parent)
