"""The progress bar every `spinepath population` command shows: done of total, and rows/s."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)


class RowsMeter:
    """Advances a progress bar by the rows of each chunk and keeps the rows/s figure."""

    def __init__(self, progress: Progress, total: int | None) -> None:
        self.progress = progress
        self.task = progress.add_task("rows", total=total, rate="0", done=0)
        self.started = time.perf_counter()
        self.done = 0

    def __call__(self, count: int) -> None:
        self.advance(count, count)

    def advance(self, rows: int, amount: int) -> None:
        """``rows`` more done, moving the bar by ``amount`` (rows, or bytes read)."""
        self.done += rows
        self.progress.update(self.task, advance=amount, rate=f"{self.rate():,.0f}", done=self.done)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def rate(self) -> float:
        elapsed = self.elapsed()
        return self.done / elapsed if elapsed > 0 else 0.0

    def summary(self, what: str) -> str:
        """``N what in T s (R rows/s)``."""
        return f"{self.done:,} {what} in {self.elapsed():.2f} s ({self.rate():,.0f} rows/s)"


@contextmanager
def rows_progress(
    err: Console, label: str, total: int | None, unit: str | None = None
) -> Iterator[RowsMeter]:
    """A progress bar on standard error (shown only on a terminal) and its meter. With ``unit``
    the bar measures something else (bytes read) and the rows done are shown in that unit."""
    counted = TextColumn("{task.fields[done]:,} " + unit) if unit else MofNCompleteColumn()
    progress = Progress(
        TextColumn(label),
        BarColumn(),
        counted,
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]} rows/s"),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    with progress:
        yield RowsMeter(progress, total)
