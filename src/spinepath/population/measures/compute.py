"""Running the measures over a data set: the per-person table, then the per-clinic results.

Everything that has a row per person stays out of Python's memory, so memory does not grow with
the number of people. DuckDB computes each measure's rows within a memory limit, spilling to
disk past it (:mod:`.memory`), and writes them, sorted, to a Parquet file of the measure's own
with ``COPY``: a sort written by ``COPY`` spills, where one handed to Python as Arrow has to fit
in the limit. The Kaplan-Meier counts and the case-mix model's data are read from that file, the
files are then joined into ``measure-people.parquet`` by Polars' streaming engine, and the counts
by clinic are summed by DuckDB over it. Python receives only what is small or numeric: the
Kaplan-Meier counts of the time-to-event measures (people per clinic and day, not per person)
and, for the case-mix measures, the numeric covariates of the denominator that the model is
fitted on.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from spinepath.population.measures import casemix, memory, proms, summary
from spinepath.population.measures.dataset import Period, open_dataset
from spinepath.population.measures.definitions import Kind, Measure
from spinepath.population.measures.episodes import create_helper_tables
from spinepath.population.measures.query import literal
from spinepath.population.measures.registry import MEASURES
from spinepath.population.measures.results import PERSON_RESULTS

PEOPLE_FILE = "measure-people.parquet"
WORK_DIR = ".measures-work"
"""Made inside the output directory for the per-measure files and DuckDB's spill files, and
removed before ``compute_measures`` returns."""

_SQL_TYPES: tuple[tuple[pl.DataType | type[pl.DataType], str], ...] = (
    (pl.String, "VARCHAR"),
    (pl.Date, "DATE"),
    (pl.Boolean, "BOOLEAN"),
    (pl.Int32, "INTEGER"),
)


@dataclass(frozen=True)
class MeasureResults:
    """``results`` (``MEASURE_RESULTS``), the per-person table (``PERSON_RESULTS``) written to
    ``people_path``, and the period."""

    results: pl.DataFrame
    people_path: Path
    period: Period
    measures: tuple[Measure, ...]

    def read_people(self) -> pl.DataFrame:
        """The whole per-person table: one row per measure and person, so only for data sets
        small enough to hold in memory."""
        return pl.read_parquet(self.people_path)


def _typed(column: str, expression: str) -> str:
    [sql_type] = [sql for dtype, sql in _SQL_TYPES if PERSON_RESULTS[column] == dtype]
    return f"CAST({expression} AS {sql_type}) AS {column}"


MEASURE_ROWS = "measure_rows"
"""The table one measure's per-person rows are made in before they are sorted."""
PERSON_ORDER = "ORDER BY clinic_id NULLS LAST, person_id"


def person_sql(measure: Measure) -> str:
    """The per-person rows of one measure (``PERSON_RESULTS``), in no order."""
    expressions = {
        "measure_id": literal(measure.id),
        "clinic_id": "pe.clinic_id",
        "person_id": "m.person_id",
        "index_date": "m.index_date",
        "in_denominator": "m.exclusion_reason IS NULL",
        "excluded": "m.exclusion_reason IS NOT NULL",
        "exclusion_reason": "m.exclusion_reason",
        "in_numerator": "coalesce(m.in_numerator, FALSE) AND m.exclusion_reason IS NULL",
        "event_date": "m.event_date",
        "days": "m.days",
        "detail": "m.detail",
    }
    columns = ",\n       ".join(_typed(name, expressions[name]) for name in PERSON_RESULTS)
    return f"""
SELECT {columns}
FROM ({measure.sql}) m LEFT JOIN people pe ON pe.person_id = m.person_id
"""  # noqa: S608


def _copy(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> int:
    """Write the rows of ``sql`` to the Parquet file ``path``, by clinic then person; the
    number of rows.

    The rows are made into a table first and sorted from it: sorting them as the measure's
    joins produce them keeps the joins' hash tables in memory beside the sort's, which at ten
    million people did not fit in 4 GiB where the two one after the other did."""
    con.execute(f"CREATE OR REPLACE TABLE {MEASURE_ROWS} AS {sql}")
    try:
        written = con.execute(
            f"COPY (SELECT * FROM {MEASURE_ROWS} {PERSON_ORDER}) "  # noqa: S608
            f"TO {literal(str(path))} (FORMAT parquet)"
        ).fetchall()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {MEASURE_ROWS}")
    return int(written[0][0])


def _join(parts: Sequence[Path], path: Path) -> None:
    """The files ``parts``, one after another and each in its order, as the one file ``path``,
    by Polars' streaming engine, which holds only a few batches of rows at a time."""
    if not parts:
        pl.DataFrame(schema=dict(PERSON_RESULTS)).write_parquet(path)
        return
    pl.scan_parquet(list(parts)).sink_parquet(path, compression="zstd", maintain_order=True)


def _model_frame(con: duckdb.DuckDBPyConnection, source: str) -> tuple[pl.DataFrame, list[str]]:
    """The case-mix model's data for the denominator of the measure whose per-person rows are
    ``source``: numeric columns only (the clinic as its index in the list returned with it)."""
    clinics = [
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT clinic_id FROM {source} "  # noqa: S608
            "WHERE in_denominator AND clinic_id IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    levels = [("sex", casemix.SEX_LEVELS), ("instrument", casemix.INSTRUMENT_LEVELS)]
    indicators = [
        f'c.{column} = {literal(level)} AS "{level}"'
        for column, chosen in levels
        for level in chosen
    ]
    sql = f"""
WITH clinics AS (
    SELECT clinic_id, CAST(row_number() OVER (ORDER BY clinic_id) - 1 AS INTEGER) AS clinic
    FROM (SELECT DISTINCT clinic_id FROM {source} WHERE in_denominator AND clinic_id IS NOT NULL)
)
SELECT k.clinic, m.in_numerator, c.age, c.duration_weeks, c.baseline, {", ".join(indicators)}
FROM {source} m
JOIN ({proms.COVARIATES_SQL}) c ON c.person_id = m.person_id
LEFT JOIN clinics k ON k.clinic_id = m.clinic_id
WHERE m.in_denominator
ORDER BY m.clinic_id NULLS LAST, m.person_id
"""  # noqa: S608
    frame: pl.DataFrame = con.sql(sql).pl()
    return frame, clinics


Progress = Callable[[Measure, int], None]


def compute_measures(
    dataset: Path,
    pathway: Path,
    out_dir: Path,
    *,
    start: date | None = None,
    end: date | None = None,
    measures: Sequence[Measure] = MEASURES,
    progress: Progress | None = None,
    memory_limit: int | None = None,
) -> MeasureResults:
    """Every measure over the data set in ``dataset`` and the pathway file ``pathway``; the
    per-person table is written to ``measure-people.parquet`` in ``out_dir`` (created if
    missing), which also holds the working files until this returns. DuckDB holds at most
    ``memory_limit`` bytes (``memory.memory_limit()`` by default) and spills the rest there.

    Raises ``tables.DatasetError`` naming the file and the column for unusable input, and for a
    period that would end before it starts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / WORK_DIR
    work.mkdir(exist_ok=True)
    people_path = out_dir / PEOPLE_FILE
    waits: dict[str, dict[str, list[float | None]]] = {}
    models: dict[str, tuple[pl.DataFrame, list[str]]] = {}
    try:
        with memory.connect(work, limit=memory_limit) as con:
            period = open_dataset(con, dataset, pathway, start=start, end=end)
            create_helper_tables(con)
            parts: list[Path] = []
            for number, measure in enumerate(measures):
                part = work / f"{number:03d}.parquet"
                count = _copy(con, person_sql(measure), part)
                parts.append(part)
                rows_of = f"read_parquet({literal(str(part))})"
                if measure.kind is Kind.TIME_TO_EVENT:
                    waits[measure.id] = summary.waits(con, rows_of)
                if measure.kind is Kind.CASE_MIX:
                    models[measure.id] = _model_frame(con, rows_of)
                if progress is not None:
                    progress(measure, count)
            _join(parts, people_path)
            found = summary.counts(con, f"read_parquet({literal(str(people_path))})")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # Fitted once DuckDB has closed and let go of its memory, the model being the largest thing
    # Python holds.
    adjustments = {}
    for measure_id in list(models):
        adjustments[measure_id] = casemix.adjust(*models.pop(measure_id))
    rows = []
    for measure in measures:
        rows += summary.measure_rows(
            measure, found.get(measure.id, []), adjustments.get(measure.id), waits.get(measure.id)
        )
    return MeasureResults(
        results=summary.results_frame(rows),
        people_path=people_path,
        period=period,
        measures=tuple(measures),
    )
