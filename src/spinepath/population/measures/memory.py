"""DuckDB connections that stay within a memory limit and spill to disk beyond it.

The measures and the report aggregate tables with a row or more per person; at ten million
people those outgrow memory, so DuckDB works out of core: joins, aggregates and sorts that go past
``memory_limit`` write their excess to a spill directory. The limit is a quarter of the machine's
physical memory, at most ``MEMORY_CAP`` and at least ``MEMORY_FLOOR``: enough for a million people
to run without spilling, and small enough to leave room for the Python side (the Kaplan-Meier
counts and the case-mix model) and for whatever else runs on the machine.

DuckDB runs a thread per CPU by default, and each thread of a join or a sort holds some memory
that cannot be spilled; DuckDB's tuning guide asks for one to four GiB per thread in such work.
So the connection runs at most one thread per GiB of its limit (and one at least): over three
million people, two threads in 0.6 GiB ran out of memory where one did not.

The spill directory is made inside a directory the caller names, which for the measures is the
results directory being written: on the same disk as the output, rather than in the system's
temporary directory, which is often a RAM disk where spilling would save nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from spinepath.population.measures.query import literal

GIB = 1024**3
MEMORY_CAP = 4 * GIB
MEMORY_FLOOR = GIB // 2
MEMORY_SHARE = 0.25
MEMORY_PER_THREAD = GIB
SPILL_PREFIX = ".duckdb-spill-"
DATABASE_FILE = "work.duckdb"
SMALLEST_LIMIT_GIB = 0.25
"""The smallest limit the commands accept: below it DuckDB runs out of memory for work it
cannot spill (a hash table's directory, a Parquet row group being written)."""


def limit_from_gib(gib: float | None) -> int | None:
    """``--memory-limit`` (GiB) in bytes; none stays none (the default limit). ``ValueError``
    below ``SMALLEST_LIMIT_GIB``."""
    if gib is None:
        return None
    if not gib >= SMALLEST_LIMIT_GIB:
        raise ValueError(f"must be at least {SMALLEST_LIMIT_GIB} (GiB), not {gib}")
    return int(gib * GIB)


def physical_memory() -> int | None:
    """The machine's physical memory in bytes, or none where the system does not say."""
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return pages * size if pages > 0 and size > 0 else None


def memory_limit(total: int | None = None) -> int:
    """The bytes DuckDB may hold before it spills: ``MEMORY_SHARE`` of ``total`` (the machine's
    memory by default) within ``MEMORY_FLOOR`` and ``MEMORY_CAP``; the cap when unknown."""
    known = physical_memory() if total is None else total
    if known is None:
        return MEMORY_CAP
    return max(MEMORY_FLOOR, min(MEMORY_CAP, int(known * MEMORY_SHARE)))


def out_of_memory(limit: int | None) -> str:
    """What to tell someone whose run needed more than ``limit`` (the default when none)."""
    chosen = (limit or memory_limit()) / GIB
    return (
        f"DuckDB ran out of memory within its limit of {chosen:.2f} GiB: "
        "give --memory-limit more GiB"
    )


def threads(limit: int, cpus: int | None = None) -> int:
    """How many threads DuckDB may run within ``limit`` bytes: one per ``MEMORY_PER_THREAD``,
    no more than there are CPUs (``os.cpu_count()`` by default), and one at least."""
    available = cpus if cpus is not None else (os.cpu_count() or 1)
    return max(1, min(available, limit // MEMORY_PER_THREAD))


@contextlib.contextmanager
def connect(
    spill_parent: Path | None = None, *, limit: int | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection limited to ``limit`` bytes (``memory_limit()`` by default) to a new
    database file, which it also spills beside, in a new directory under ``spill_parent`` (the
    system's temporary directory when none); closed and the directory removed on leaving the
    block."""
    spill = Path(tempfile.mkdtemp(prefix=SPILL_PREFIX, dir=spill_parent))
    try:
        # A database file rather than memory: the tables a run makes (the measures' index
        # episodes and pathway rows, ten million rows and more) can then leave memory for it,
        # where those of an in-memory database cannot, and ten million people ran out of 4 GiB.
        con = duckdb.connect(str(spill / DATABASE_FILE))
        try:
            # Settings take no query parameters: the values are quoted here instead.
            chosen = limit or memory_limit()
            con.execute(f"SET memory_limit = {literal(f'{chosen}B')}")
            con.execute(f"SET threads = {threads(chosen)}")
            con.execute(f"SET temp_directory = {literal(str(spill))}")
            # Every output whose row order matters says it with ORDER BY; without having to keep
            # the order of unordered results too, DuckDB gets by in less memory.
            con.execute("SET preserve_insertion_order = false")
            yield con
        finally:
            con.close()
    finally:
        shutil.rmtree(spill, ignore_errors=True)
