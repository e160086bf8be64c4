"""Opening a population data set in DuckDB for the measures: checked, with the period set.

The tables are read where they lie (``read_parquet``), each as a view named after its table, the
pathway's decisions as the view ``pathway``, and the measurement period as the one-row table
``params`` (``period_start``, ``period_end``, both included).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from spinepath.pathway.assessment import Level
from spinepath.population import tables
from spinepath.population.measures.query import literal
from spinepath.population.tables import DatasetError

PATHWAY_TABLE = "pathway"

VOCABULARIES: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("people", "sex"): ("female", "male", "other", "unknown"),
    ("episodes", "region"): ("low_back", "neck", "upper_back"),
    ("episodes", "setting"): ("outpatient", "emergency", "telehealth", "specialist"),
    ("conditions", "category"): tables.CONDITION_CATEGORIES,
    ("imaging", "modality"): ("xray", "ct", "mri"),
    ("imaging", "body_site"): ("lumbar", "thoracic", "cervical", "other"),
    ("imaging", "ordered_by_setting"): ("primary_care", "specialist", "emergency"),
    ("medications", "drug_class"): tables.DRUG_CLASSES,
    ("procedures", "kind"): tables.PROCEDURE_KINDS,
    ("referrals", "kind"): ("surgical_opinion", "physiotherapy", "pain_service", "imaging"),
    ("proms", "timepoint"): tables.TIMEPOINTS,
    (PATHWAY_TABLE, "level"): tuple(level.value for level in Level),
    (PATHWAY_TABLE, "startback_group"): ("low", "medium", "high"),
}
"""The values each coded column may hold (null is always allowed): the measures match on them, so
a misspelt value would silently drop people instead of failing."""

_DATES = {
    "episodes": "diagnosis_date",
    "imaging": "performed_on",
    "medications": "prescribed_on",
    "procedures": "performed_on",
    "proms": "due_on",
    PATHWAY_TABLE: "assessed_on",
}


@dataclass(frozen=True)
class Period:
    """The measurement period, both ends included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"the period starts ({self.start}) after it ends ({self.end})")


def check_pathway(path: Path) -> None:
    """Refuse a pathway file that is missing or lacks a column of ``tables.PATHWAY``."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    try:
        found = pl.scan_parquet(path).collect_schema()
    except (pl.exceptions.PolarsError, OSError) as error:
        raise DatasetError(f"{path}: not a Parquet file ({error})") from None
    wrong = [
        f"{name} ({found.get(name)} instead of {dtype})"
        for name, dtype in tables.PATHWAY.items()
        if found.get(name) != dtype
    ]
    if wrong:
        raise DatasetError(f"{path}: wrong or missing columns: {', '.join(wrong)}")


def _paths(directory: Path, pathway: Path) -> dict[str, Path]:
    paths = {name: tables.table_path(directory, name) for name in tables.TABLES}
    for name in tables.TABLES:
        try:
            tables.scan(directory, name)
        except (pl.exceptions.PolarsError, OSError) as error:
            raise DatasetError(f"{paths[name]}: not a Parquet file ({error})") from None
    check_pathway(pathway)
    return {**paths, PATHWAY_TABLE: pathway}


def _value(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    """The one value a query gives (DuckDB 2 wants every result read to its end)."""
    return con.execute(sql).fetchall()[0][0]


def _check_values(con: duckdb.DuckDBPyConnection, paths: Mapping[str, Path]) -> None:
    for (table, column), allowed in VOCABULARIES.items():
        listed = ", ".join(f"'{value}'" for value in allowed)
        found = con.sql(
            f"SELECT DISTINCT {column} FROM {table} "  # noqa: S608
            f"WHERE {column} IS NOT NULL AND {column} NOT IN ({listed}) ORDER BY 1 LIMIT 3"
        ).fetchall()
        if found:
            values = ", ".join(repr(row[0]) for row in found)
            raise DatasetError(
                f"{paths[table]}: column {column}: unknown value {values} "
                f"(expected one of {', '.join(allowed)})"
            )
    for table in (*tables.TABLES, PATHWAY_TABLE):
        if _value(con, f"SELECT count(*) FROM {table} WHERE person_id IS NULL"):  # noqa: S608
            raise DatasetError(f"{paths[table]}: column person_id: a row has no person_id")
    twice = con.sql(
        "SELECT person_id FROM people GROUP BY person_id HAVING count(*) > 1 ORDER BY 1 LIMIT 1"
    ).fetchall()
    if twice:
        raise DatasetError(f"{paths['people']}: person_id {twice[0][0]!r} appears more than once")


def _default_period(con: duckdb.DuckDBPyConnection, start: date | None, end: date | None) -> Period:
    if start is None:
        start = _value(con, "SELECT min(diagnosis_date) FROM episodes")
    if end is None:
        latest = " UNION ALL ".join(
            f"SELECT max({c}) AS d FROM {t}"  # noqa: S608
            for t, c in _DATES.items()
        )
        end = _value(con, f"SELECT max(d) FROM ({latest})")  # noqa: S608
    if start is None or end is None:
        raise DatasetError(
            "the data set has no dated rows to take a measurement period from: "
            "give --period-start and --period-end"
        )
    if start > end:
        raise DatasetError(f"the period would start on {start}, after it ends on {end}")
    return Period(start, end)


def open_dataset(
    con: duckdb.DuckDBPyConnection,
    directory: Path,
    pathway: Path,
    *,
    start: date | None = None,
    end: date | None = None,
) -> Period:
    """Add the data set's views and ``params`` to ``con``, once its values are checked; the
    period.

    A missing start is the first diagnosis date; a missing end the latest date in the data set.
    Raises ``DatasetError`` naming the file and the column for anything unusable."""
    paths = _paths(directory, pathway)
    for name, path in paths.items():
        columns = ", ".join(tables.PATHWAY if name == PATHWAY_TABLE else tables.TABLES[name])
        # The path is quoted as an SQL string literal: a view cannot take query parameters.
        source = f"read_parquet({literal(str(path))})"
        con.execute(f"CREATE VIEW {name} AS SELECT {columns} FROM {source}")  # noqa: S608
    _check_values(con, paths)
    period = _default_period(con, start, end)
    con.execute(
        "CREATE TABLE params AS SELECT ?::DATE AS period_start, ?::DATE AS period_end",
        [period.start, period.end],
    )
    return period
