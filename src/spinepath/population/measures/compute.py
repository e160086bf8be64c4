"""Running the measures over a data set: the per-person table, then the per-clinic results."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from spinepath.population.measures import casemix, proms, summary
from spinepath.population.measures.dataset import Period, open_dataset
from spinepath.population.measures.definitions import Kind, Measure
from spinepath.population.measures.episodes import create_helper_tables
from spinepath.population.measures.registry import MEASURES
from spinepath.population.measures.results import PERSON_RESULTS, empty_people


@dataclass(frozen=True)
class MeasureResults:
    """``results`` (``MEASURE_RESULTS``), ``people`` (``PERSON_RESULTS``) and the period."""

    results: pl.DataFrame
    people: pl.DataFrame
    period: Period
    measures: tuple[Measure, ...]


def person_rows(con: duckdb.DuckDBPyConnection, measure: Measure) -> pl.DataFrame:
    """The per-person rows of one measure (``PERSON_RESULTS``), by clinic then person."""
    sql = f"""
SELECT '{measure.id}' AS measure_id, pe.clinic_id, m.person_id, m.index_date,
       m.exclusion_reason IS NULL AS in_denominator,
       m.exclusion_reason IS NOT NULL AS excluded,
       m.exclusion_reason,
       coalesce(m.in_numerator, FALSE) AND m.exclusion_reason IS NULL AS in_numerator,
       m.event_date, CAST(m.days AS INTEGER) AS days, m.detail
FROM ({measure.sql}) m LEFT JOIN people pe ON pe.person_id = m.person_id
ORDER BY pe.clinic_id NULLS LAST, m.person_id
"""  # noqa: S608
    found: pl.DataFrame = con.sql(sql).pl()
    return found.select(pl.col(name).cast(dtype) for name, dtype in PERSON_RESULTS.items())


def _adjustments(
    con: duckdb.DuckDBPyConnection, people: pl.DataFrame
) -> dict[str, casemix.Adjustment]:
    covariates = con.sql(proms.COVARIATES_SQL).pl()
    denominator = people.filter(pl.col("in_denominator")).select(
        "person_id", "clinic_id", "in_numerator"
    )
    return casemix.adjust(denominator.join(covariates, on="person_id", how="inner"))


Progress = Callable[[Measure, int], None]


def compute_measures(
    dataset: Path,
    pathway: Path,
    *,
    start: date | None = None,
    end: date | None = None,
    measures: Sequence[Measure] = MEASURES,
    progress: Progress | None = None,
) -> MeasureResults:
    """Every measure over the data set in ``dataset`` and the pathway file ``pathway``.

    Raises ``tables.DatasetError`` naming the file and the column for unusable input, and for a
    period that would end before it starts."""
    con, period = open_dataset(dataset, pathway, start=start, end=end)
    try:
        create_helper_tables(con)
        frames = {}
        adjustments = {}
        for measure in measures:
            frames[measure.id] = person_rows(con, measure)
            if measure.kind is Kind.CASE_MIX:
                adjustments[measure.id] = _adjustments(con, frames[measure.id])
            if progress is not None:
                progress(measure, frames[measure.id].height)
        people = pl.concat([empty_people(), *frames.values()], how="vertical")
        found = summary.counts(people, con)
    finally:
        con.close()
    rows = []
    for measure in measures:
        rows += summary.measure_rows(
            measure, frames[measure.id], found.get(measure.id, []), adjustments.get(measure.id)
        )
    return MeasureResults(
        results=summary.results_frame(rows),
        people=people,
        period=period,
        measures=tuple(measures),
    )
