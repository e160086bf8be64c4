"""The database handle: one engine per process, one transaction per unit of work.

SQLite gets WAL, foreign keys and a busy timeout on every connection, and every transaction
starts with ``BEGIN IMMEDIATE`` so that concurrent writers queue on the busy timeout instead of
failing on a read-to-write lock upgrade.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from spinepath.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 15_000
POSTGRES_POOL_SIZE = 10


class Database:
    """An engine and a session factory. Create with :meth:`from_settings` or :meth:`from_url`."""

    def __init__(self, engine: Engine, concurrency: int) -> None:
        self.engine = engine
        self.concurrency = concurrency
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls.from_url(settings.database_url)

    @classmethod
    def from_url(cls, url: str) -> Database:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
            _configure_sqlite(engine)
            # One writer at a time is all SQLite allows; more would only wait on the file lock.
            return cls(engine, concurrency=1)
        engine = create_engine(
            url, pool_pre_ping=True, pool_size=POSTGRES_POOL_SIZE, max_overflow=0
        )
        return cls(engine, concurrency=POSTGRES_POOL_SIZE)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def new_session(self) -> Session:
        """A session whose transaction the caller commits or rolls back."""
        return self._sessions()

    def slots(self) -> asyncio.Semaphore:
        """Bounds the transactions one process runs at once (per event loop)."""
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = asyncio.Semaphore(self.concurrency)
        return slots

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN is
        # DEFERRED, which can fail with SQLITE_BUSY instead of waiting).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # INSERT OR REPLACE deletes the row it replaces; only with recursive triggers does that
        # delete meet the audit log's append-only trigger.
        cursor.execute("PRAGMA recursive_triggers=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
