"""Running the delivery worker in the foreground (`spinepath worker`) or as `serve`'s companion
process, until a signal stops it."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from collections.abc import Callable

    from spinepath.care.worker import RoundStats, Worker

console = Console(stderr=True)


def report(stats: RoundStats) -> None:
    counts = {
        "sent": stats.sent,
        "to retry": stats.retried,
        "failed": stats.failed,
        "skipped": stats.skipped,
        "reminders queued": stats.reminders_queued,
        "alerts for questionnaires left at a red flag": stats.abandoned_stop_alerts,
    }
    if any(counts.values()):
        console.print(", ".join(f"{name} {n}" for name, n in counts.items()))


def run_until_signalled(runner: Worker, on_round: Callable[[RoundStats], None]) -> None:
    stop = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    runner.run(stop, on_round)


def worker_process() -> None:
    """Entry point of the worker process `serve` starts beside the web workers."""
    from spinepath.care.worker import Worker
    from spinepath.settings import Settings
    from spinepath.store.db import Database
    from spinepath.web.pages.clinical import stop_reasons
    from spinepath.web.workers import end_with_parent

    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid is not None:
        end_with_parent(parent.pid)
    settings = Settings()
    database = Database.from_settings(settings)
    try:
        run_until_signalled(Worker(database, settings, stop_reasons=stop_reasons), report)
    finally:
        database.dispose()
