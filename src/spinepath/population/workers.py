"""The processes that assess chunks for ``population assess``, started before anything heavy.

Nothing here imports Polars or the knowledge base: the command starts its workers first, so
their start (imports, knowledge base, the plan: about a second each) overlaps the main
process's own, and they are ready when the first chunk is."""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Workers:
    """Processes that assess chunks, and the directory their decisions are handed over in
    (neither: the main process assesses them)."""

    pool: ProcessPoolExecutor | None
    handoff: Path | None
    count: int


@contextmanager
def started_workers(workers: int | None = None) -> Iterator[Workers]:
    """``workers`` processes (one per CPU by default), started and made ready at once.

    The pathway's Python steps hold the interpreter lock, so processes rather than threads."""
    count = workers or os.cpu_count() or 1
    if count == 1:
        yield Workers(None, None, 1)
        return
    context = multiprocessing.get_context("spawn")
    with (
        tempfile.TemporaryDirectory(prefix="spinepath-assess-") as handoff,
        worker_environment(count),
        ProcessPoolExecutor(count, mp_context=context, initializer=_ready) as pool,
    ):
        pool.submit(os.getpid)  # the pool starts its processes at the first task
        yield Workers(pool, Path(handoff), count)


def _ready() -> None:
    from spinepath.population.assess import warm

    warm()
    # A worker's results are handed over by the time it is told to stop; tearing down its
    # interpreter (Polars, the knowledge base, the plan) took a quarter of a second that
    # the command waited for.
    atexit.register(_exit_at_once)


def _exit_at_once() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


ALLOCATOR = "_RJEM_MALLOC_CONF"
"""The settings of jemalloc, the memory allocator Polars uses: options separated by commas, the
last value of an option counting."""

WORKER_ALLOCATOR = "dirty_decay_ms:10000,muzzy_decay_ms:10000"
"""The workers' allocator settings: freed memory is kept for the next chunk rather than handed
back to the system and faulted in again (on a million people: half the page faults, a third
less system time)."""

POLARS_ALLOCATOR = "dirty_decay_ms:500,muzzy_decay_ms:1000"
"""What importing Polars writes into the environment, before any settings found there: so a
process started by one that imported Polars inherits it, though nobody chose it."""


def allocator_settings(found: str | None) -> str:
    """The workers' allocator settings given those in the environment: the workers' own, then
    any the user gave (which win over them), leaving out what Polars wrote on its own."""
    given = (found or "").removeprefix(POLARS_ALLOCATOR).strip(",")
    return f"{WORKER_ALLOCATOR},{given}" if given else WORKER_ALLOCATOR


@contextmanager
def worker_environment(workers: int) -> Iterator[None]:
    """The environment the workers start with: their allocator settings, and Polars in each
    worker given its share of the CPUs (``POLARS_MAX_THREADS``, unless set already): a pool per
    process the size of the machine makes the workers take turns on every core. The caller's
    environment is restored afterwards."""
    wanted = {ALLOCATOR: allocator_settings(os.environ.get(ALLOCATOR))}
    if "POLARS_MAX_THREADS" not in os.environ:
        wanted["POLARS_MAX_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value
