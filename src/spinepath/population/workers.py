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
    """Processes that assess chunks (none: the main process does), and the directory their
    decisions are handed over in."""

    pool: ProcessPoolExecutor | None
    handoff: Path
    count: int


@contextmanager
def started_workers(workers: int | None = None) -> Iterator[Workers]:
    """``workers`` processes (one per CPU by default), started and made ready at once.

    The pathway's Python steps hold the interpreter lock, so processes rather than threads."""
    count = workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="spinepath-assess-") as handoff:
        if count == 1:
            yield Workers(None, Path(handoff), 1)
            return
        context = multiprocessing.get_context("spawn")
        with (
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


WORKER_ENVIRONMENT = {
    # Freed memory is kept for the next chunk rather than handed back to the system and
    # faulted in again (on a million people: half the page faults, a third less system time).
    "_RJEM_MALLOC_CONF": "dirty_decay_ms:10000,muzzy_decay_ms:10000",
}
"""Settings of the workers' memory allocator (jemalloc, which Polars uses), unless set already."""


@contextmanager
def worker_environment(workers: int) -> Iterator[None]:
    """The environment the workers start with: ``WORKER_ENVIRONMENT``, and Polars in each
    worker given its share of the CPUs (``POLARS_MAX_THREADS``): a pool per process the size of
    the machine makes the workers take turns on every core. A value already set is kept."""
    wanted = {
        **WORKER_ENVIRONMENT,
        "POLARS_MAX_THREADS": str(max(1, (os.cpu_count() or 1) // workers)),
    }
    added = [name for name in wanted if name not in os.environ]
    os.environ.update({name: wanted[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            del os.environ[name]
