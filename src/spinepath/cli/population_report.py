"""`spinepath population report`: one offline HTML page summarising a population run.

The pathway and outcome-questionnaire files are checked and then summarised where they lie
(``population.report``), never read whole: their size grows with the people, the page's does not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from spinepath.cli.files import atomic_output, fail
from spinepath.cli.population_group import population

if TYPE_CHECKING:
    import polars as pl
    from rich.progress import Progress

Frame = TypeVar("Frame", "pl.DataFrame", "pl.LazyFrame")

MEASURES_FILE = "measures.parquet"
"""The measure results' file name in a measures output directory."""


def _unreadable(path: Path, option: str, exc: Exception) -> typer.Exit:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return fail(f"{option} {path}: cannot be read as Parquet ({reason})")


def _read_parquet(path: Path, option: str) -> pl.DataFrame:
    """The table in ``path``; exit 2 naming the option and the file when it cannot be read."""
    import polars as pl

    if not path.is_file():
        raise fail(f"{option} {path}: no such file")
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise _unreadable(path, option, exc) from None


def _scan_parquet(path: Path, option: str) -> tuple[pl.LazyFrame, int]:
    """The table in ``path``, not read yet, and its number of rows (from the file's footer);
    exit 2 naming the option and the file when it cannot be read."""
    import polars as pl

    if not path.is_file():
        raise fail(f"{option} {path}: no such file")
    try:
        frame = pl.scan_parquet(path)
        frame.collect_schema()
        rows = int(frame.select(pl.len()).collect().item())
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise _unreadable(path, option, exc) from None
    return frame, rows


def _measures_file(measures: Path) -> Path:
    return measures / MEASURES_FILE if measures.is_dir() else measures


def _progress(err: Console) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.fields[step]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} rows/s"),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    )


class _Steps:
    """Advances the progress bar one step at a time, with the rows read so far per second."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.task = progress.add_task("report", total=total, step="reading", rate="0")
        self.started = time.perf_counter()
        self.rows = 0

    def done(self, step: str, rows: int = 0) -> None:
        self.rows += rows
        elapsed = time.perf_counter() - self.started
        rate = f"{self.rows / elapsed:,.0f}" if elapsed > 0 else "0"
        self.progress.update(self.task, advance=1, step=step, rate=rate)


def _checked(frame: Frame, check: Callable[[Frame, str], None], name: str) -> None:
    import polars as pl

    from spinepath.population.report import ReportInputError

    try:
        check(frame, name)
    except ReportInputError as exc:
        raise fail(str(exc)) from None
    except (OSError, pl.exceptions.PolarsError) as exc:  # a file damaged past its footer
        raise fail(f"{name}: cannot be read as Parquet ({exc})") from None


def _read_proms(dataset: Path) -> tuple[Path, int]:
    import polars as pl

    from spinepath.population.report import check_proms
    from spinepath.population.tables import DatasetError, scan, table_path

    path = table_path(dataset, "proms")
    if not dataset.is_dir():
        raise fail(f"--dataset {dataset}: no such directory")
    try:
        proms = scan(dataset, "proms")
        rows = int(proms.select(pl.len()).collect().item())
    except DatasetError as exc:
        raise fail(f"--dataset {exc}") from None
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise fail(f"--dataset {path}: cannot be read as Parquet ({exc})") from None
    _checked(proms, check_proms, f"--dataset {path}")
    return path, rows


@population.command("report")
def report_command(
    pathway: Annotated[
        Path, typer.Option("--pathway", help="The pathway results (pathway.parquet).")
    ],
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write, all or nothing.")],
    measures: Annotated[
        Path | None,
        typer.Option(
            "--measures", help="The measure results: measures.parquet or the directory holding it."
        ),
    ] = None,
    dataset: Annotated[
        Path | None,
        typer.Option("--dataset", help="The data set directory, for its outcome questionnaires."),
    ] = None,
    startback_groups: Annotated[
        bool,
        typer.Option(
            "--startback-groups/--no-startback-groups",
            help="Also show the outcome scores by STarT Back group.",
        ),
    ] = True,
    memory_limit: Annotated[
        float | None,
        typer.Option(
            "--memory-limit",
            help="GiB DuckDB may hold before it spills to disk beside --out "
            "(default: a quarter of the machine's memory, at most 4).",
        ),
    ] = None,
) -> None:
    """Write one HTML page, readable offline on a phone, with the pathway's decisions, the
    quality measures per clinic (funnel plots) and the outcome scores by timepoint."""
    import duckdb

    from spinepath.population.measures.memory import limit_from_gib, out_of_memory
    from spinepath.population.report import (
        ReportInputError,
        check_measures,
        check_pathway,
        render_report,
    )

    err = Console(stderr=True)
    try:
        limit = limit_from_gib(memory_limit)
    except ValueError as error:
        raise fail(f"--memory-limit {error}") from None
    inputs: dict[str, str] = {"Pathway results": str(pathway)}
    progress = _progress(err)
    with progress:
        steps = _Steps(progress, total=2 + (measures is not None) + (dataset is not None))
        pathway_frame, pathway_rows = _scan_parquet(pathway, "--pathway")
        _checked(pathway_frame, check_pathway, f"--pathway {pathway}")
        steps.done("checked the pathway", pathway_rows)
        measure_frame = None
        if measures is not None:
            source = _measures_file(measures)
            measure_frame = _read_parquet(source, "--measures")
            _checked(measure_frame, check_measures, f"--measures {source}")
            inputs["Measure results"] = str(source)
            steps.done("read the measures", measure_frame.height)
        proms = None
        if dataset is not None:
            proms, proms_rows = _read_proms(dataset)
            inputs["Outcome questionnaires"] = str(proms)
            steps.done("checked the questionnaires", proms_rows)
        # DuckDB spills beside --out, on the disk the report goes to, if it needs to at all.
        parent = out.absolute().parent
        try:
            html = render_report(
                pathway,
                measure_frame,
                proms,
                inputs=inputs,
                by_startback=startback_groups,
                spill_parent=parent if parent.is_dir() else None,
                memory_limit=limit,
                checked=True,
            )
        except ReportInputError as exc:
            raise fail(str(exc)) from None
        except duckdb.OutOfMemoryException:
            raise fail(f"error: {out_of_memory(limit)}") from None
        except duckdb.Error as exc:  # a file damaged past what the checks read
            raise fail(f"error: the inputs cannot be read ({exc})") from None
        steps.done("drew the report")
    # atomic_output exits 2 naming the file when --out cannot be written or is an input.
    with atomic_output(out, inputs.values()) as handle:
        handle.write(html.encode("utf-8"))
    elapsed = time.perf_counter() - steps.started
    rate = steps.rows / elapsed if elapsed > 0 else 0.0
    err.print(
        f"--out {out}: report of {steps.rows:,} rows in {elapsed:.2f} s ({rate:,.0f} rows/s)",
        highlight=False,
    )
