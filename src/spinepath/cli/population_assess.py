"""`spinepath population assess`: the whole pathway over a population, one decision row each."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from spinepath.cli.files import atomic_output, fail
from spinepath.cli.population_group import population
from spinepath.cli.population_progress import RowsMeter, rows_progress

if TYPE_CHECKING:
    import polars as pl

    from spinepath.knowledge import KnowledgeBase
    from spinepath.population.assess import Job
    from spinepath.population.workers import Workers


class EngineChoice(StrEnum):
    polars = "polars"
    duckdb = "duckdb"
    spark = "spark"


@population.command("assess")
def assess_command(
    out: Annotated[Path, typer.Option("--out", help="The decisions, as Parquet (all or nothing).")],
    dataset: Annotated[
        Path | None,
        typer.Option("--dataset", help="A population data set directory (its assessments)."),
    ] = None,
    intakes: Annotated[
        Path | None, typer.Option("--intakes", help="Intake NDJSON instead: one intake a line.")
    ] = None,
    rejected: Annotated[
        Path | None,
        typer.Option("--rejected", help="Write the refused assessments and why, as Parquet."),
    ] = None,
    engine: Annotated[
        EngineChoice, typer.Option("--engine", help="Who runs the pathway's plan.")
    ] = EngineChoice.polars,
    spark_master: Annotated[
        str, typer.Option("--spark-master", help="With --engine spark: the cluster to use.")
    ] = "local[2]",
    chunk: Annotated[int, typer.Option("--chunk", help="People per chunk (memory).")] = 250_000,
    workers: Annotated[
        int, typer.Option("--workers", help="Processes for the Polars engine (0: one per CPU).")
    ] = 0,
) -> None:
    """Run the whole pathway (urgency, concerns, still-to-ask, pattern, STarT Back, surgical
    opinion, imaging, care plan) over every assessment, writing one row per assessment with the
    columns listed in docs/population-pathway.md. The decisions equal the per-person engine's."""
    err = Console(stderr=True)
    if (dataset is None) == (intakes is None):
        raise fail("give one of --dataset DIR or --intakes FILE")
    if chunk < 1:
        raise fail(f"--chunk must be 1 or more, not {chunk}")
    if workers < 0:
        raise fail(f"--workers must be 0 (one per CPU) or more, not {workers}")
    source = dataset if dataset is not None else intakes
    assert source is not None  # noqa: S101 - checked just above
    inputs = [source, *(source.glob("*.parquet") if dataset is not None else [])]
    refused: list[pl.DataFrame] = []
    with ExitStack() as stack:
        if engine is EngineChoice.polars:
            from spinepath.population.workers import started_workers

            # Started first: they get ready while the input is measured.
            pool = stack.enter_context(started_workers(workers or None))
        jobs, total = _jobs(source, ndjson=intakes is not None, size=chunk)
        handle = stack.enter_context(atomic_output(out, inputs))
        meter = stack.enter_context(rows_progress(err, f"assessing ({engine.value})", total))
        if engine is EngineChoice.polars:
            _run_polars(jobs, pool, handle, refused, meter)
        else:
            from spinepath import knowledge as kb

            _run_sql(jobs, kb.default(), handle, refused, meter, engine, spark_master)
    _report_refused(err, refused, rejected, inputs)
    err.print(f"--out {out}: {meter.summary('assessments')}", highlight=False)


def _jobs(source: Path, *, ndjson: bool, size: int) -> tuple[Iterator[Job], int]:
    from spinepath.population.assess import count_rows, dataset_jobs, ndjson_jobs
    from spinepath.population.tables import DatasetError

    try:
        total = count_rows(source, ndjson=ndjson)
    except (DatasetError, OSError) as exc:
        raise fail(f"{'--intakes' if ndjson else '--dataset'} {source}: {exc}") from None
    return (ndjson_jobs(source, size) if ndjson else dataset_jobs(source, size)), total


@contextmanager
def _readable() -> Iterator[None]:
    """A chunk the reader cannot parse stops the run with the reader's message (nothing is
    written)."""
    from polars.exceptions import ComputeError

    try:
        yield
    except ComputeError as exc:
        raise fail(f"cannot read the input: {str(exc).splitlines()[0]}") from None


def _run_polars(
    jobs: Iterator[Job], pool: Workers, handle: Any, refused: list[pl.DataFrame], meter: RowsMeter
) -> None:
    import polars as pl
    import pyarrow.parquet as pq

    from spinepath.population.assess import run_jobs
    from spinepath.population.tables import PATHWAY

    # Polars' own string layout, written as is: converting every chunk to Arrow's classic
    # strings cost as much as writing it. Without the Arrow schema stored in the file, every
    # reader sees plain strings and lists.
    newest = pl.CompatLevel.newest()
    schema = pl.DataFrame(schema=dict(PATHWAY)).to_arrow(compat_level=newest).schema
    writer = pq.ParquetWriter(handle, schema, store_schema=False)
    try:
        with _readable():
            for done, refused_here, rows in run_jobs(jobs, pool):
                writer.write_table(done.to_arrow(compat_level=newest))
                refused.append(refused_here)
                meter(rows)
    finally:
        writer.close()


def _run_sql(
    jobs: Iterator[Job],
    knowledge: KnowledgeBase,
    handle: Any,
    refused: list[pl.DataFrame],
    meter: RowsMeter,
    engine: EngineChoice,
    spark_master: str,
) -> None:
    """Facts chunk by chunk with Polars into a Parquet file, then the engine over it."""
    import polars as pl
    import pyarrow.parquet as pq

    from spinepath.population import engines
    from spinepath.population.assess import KEYS, chunk_of, facts_and_rejected
    from spinepath.population.tables import PATHWAY

    with tempfile.TemporaryDirectory(prefix="spinepath-facts-") as directory:
        facts_path = Path(directory) / "facts.parquet"
        writer: pq.ParquetWriter | None = None
        try:
            with _readable():
                for job in jobs:
                    part = chunk_of(job)
                    facts, refused_here = facts_and_rejected(part, knowledge)
                    table, bad = pl.collect_all([facts, refused_here])
                    arrow = table.to_arrow()
                    writer = writer or pq.ParquetWriter(facts_path, arrow.schema)
                    writer.write_table(arrow)
                    refused.append(bad)
                    meter(part.rows)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise fail("the input holds no assessments")
        if engine is EngineChoice.duckdb:
            decisions = engines.duckdb_decisions(facts_path, KEYS, knowledge)
        else:
            session = engines.spark_session(spark_master)
            written = Path(directory) / "decisions"
            engines.spark_write_decisions(session, str(facts_path), str(written), KEYS, knowledge)
            # Spark names its files so that their order is the rows' order.
            decisions = pl.read_parquet(sorted(written.glob("part-*.parquet")))
        ordered = decisions.select(list(PATHWAY)).cast(pl.Schema(PATHWAY))
        pq.write_table(ordered.to_arrow(), handle)


def _report_refused(
    err: Console, refused: list[pl.DataFrame], target: Path | None, inputs: list[Path]
) -> None:
    import polars as pl

    from spinepath.population.assess import REJECTED

    frame = pl.concat([pl.DataFrame(schema=dict(REJECTED)), *refused])
    if frame.height:
        first = frame.row(0, named=True)
        err.print(
            f"{frame.height:,} assessments refused; the first, {first['assessment_id']}: "
            f"{'; '.join(first['errors'])}",
            highlight=False,
        )
    if target is not None:
        with atomic_output(target, inputs) as handle:
            frame.write_parquet(handle)
