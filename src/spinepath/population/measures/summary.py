"""From the per-person table to one row per measure and clinic: counts, rates, intervals, funnel
limits, centiles, waiting-time quantiles and case-mix adjustment (``MEASURE_RESULTS``).

The counts and the waiting times are summed by DuckDB over the per-person rows where they lie
(a Parquet file), so only one row per measure and clinic, or per clinic and day, comes back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import polars as pl

from spinepath.population.measures import statistics
from spinepath.population.measures.casemix import Adjustment
from spinepath.population.measures.definitions import Kind, Measure
from spinepath.population.measures.results import ALL_CLINICS, MEASURE_RESULTS
from spinepath.population.measures.survival import km_quantiles_counted

_COUNTS = f"""
SELECT measure_id,
       CASE WHEN grouping(clinic_id) = 1 THEN '{ALL_CLINICS}' ELSE clinic_id END AS clinic_id,
       count(*) AS initial_population,
       count(*) FILTER (WHERE in_denominator) AS denominator,
       count(*) FILTER (WHERE excluded) AS exclusions,
       count(*) FILTER (WHERE in_numerator) AS numerator
FROM {{source}}
GROUP BY GROUPING SETS ((measure_id, clinic_id), (measure_id))
HAVING grouping(clinic_id) = 1 OR clinic_id IS NOT NULL
ORDER BY measure_id, grouping(clinic_id) DESC, clinic_id
"""  # noqa: S608

_WAITS = """
SELECT grouping(clinic_id) = 1 AS everyone, clinic_id, t,
       count(*) FILTER (WHERE seen) AS events, count(*) AS leaving
FROM (SELECT clinic_id, coalesce(days, 0) AS t, event_date IS NOT NULL AS seen FROM {source})
GROUP BY GROUPING SETS ((clinic_id, t), (t))
HAVING grouping(clinic_id) = 1 OR clinic_id IS NOT NULL
"""


def counts(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, list[dict[str, Any]]]:
    """The counts of each measure in the per-person rows of ``source`` (a table, a view or a
    table function of ``con``), the ``ALL`` row first, then each clinic's."""
    found: dict[str, list[dict[str, Any]]] = {}
    cursor = con.execute(_COUNTS.format(source=source))
    names = [column[0] for column in cursor.description or ()]
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        found.setdefault(row["measure_id"], []).append(row)
    return found


def waits(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, list[float | None]]:
    """The Kaplan-Meier quantiles of ``days`` by clinic and for ``ALL``, over the rows of one
    measure in ``source``: a person without an event is censored at ``days``. Only the number
    of people leaving on each day is fetched, not the people."""
    by_clinic: dict[str, list[tuple[int, int, int]]] = {}
    for everyone, clinic, time, events, leaving in con.execute(
        _WAITS.format(source=source)
    ).fetchall():
        key = ALL_CLINICS if everyone else clinic
        by_clinic.setdefault(key, []).append((time, events, leaving))
    return {clinic: km_quantiles_counted(rows) for clinic, rows in by_clinic.items()}


def _reported(measure: Measure, value: float | None) -> float | None:
    if value is None or not measure.inverted:
        return value
    return 1.0 - value


def _interval(measure: Measure, bounds: tuple[float, float] | None) -> tuple[Any, Any]:
    if bounds is None:
        return None, None
    low, high = bounds
    return (1.0 - high, 1.0 - low) if measure.inverted else (low, high)


def _row(measure: Measure, count: Mapping[str, Any], p0: float | None) -> dict[str, Any]:
    n, k = count["denominator"], count["numerator"]
    rate = k / n if n else None
    ci = _interval(measure, statistics.wilson(k, n))
    limits = statistics.funnel(p0, n)
    f95, f998 = _interval(measure, limits["95"]), _interval(measure, limits["998"])
    return {
        **count,
        "centile": None,
        "expected": None,
        "adjusted_rate": None,
        "median_days": None,
        "p25_days": None,
        "p75_days": None,
        "rate": rate,
        "reported_rate": _reported(measure, rate),
        "ci_low": ci[0],
        "ci_high": ci[1],
        "funnel_low_95": f95[0],
        "funnel_high_95": f95[1],
        "funnel_low_998": f998[0],
        "funnel_high_998": f998[1],
        "higher_is_better": measure.higher_is_better,
    }


def measure_rows(
    measure: Measure,
    found: Sequence[Mapping[str, Any]],
    adjustments: Mapping[str, Adjustment] | None = None,
    waits: Mapping[str, Sequence[float | None]] | None = None,
) -> list[dict[str, Any]]:
    """The result rows of one measure from its counts (``ALL`` first), with, by clinic, its
    case-mix adjustments and (time-to-event measures) its :func:`waits`."""
    if not found:
        zero = {"initial_population": 0, "denominator": 0, "exclusions": 0, "numerator": 0}
        found = [{"measure_id": measure.id, "clinic_id": ALL_CLINICS, **zero}]
    total = found[0]
    p0 = total["numerator"] / total["denominator"] if total["denominator"] else None
    rows = [_row(measure, count, p0) for count in found]
    clinic_rows = rows[1:]
    ranks = statistics.centiles(
        [r["reported_rate"] for r in clinic_rows], higher_is_better=measure.higher_is_better
    )
    for row, centile in zip(clinic_rows, ranks, strict=True):
        row["centile"] = centile
    for row in rows:
        if measure.kind is Kind.TIME_TO_EVENT:
            quantiles = (waits or {}).get(row["clinic_id"], (None, None, None))
            row["p25_days"], row["median_days"], row["p75_days"] = quantiles
        adjustment = (adjustments or {}).get(row["clinic_id"])
        if adjustment is not None:
            row["expected"] = adjustment.expected
            row["adjusted_rate"] = adjustment.adjusted_rate
    return rows


def results_frame(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """The rows as ``MEASURE_RESULTS``, every column present."""
    schema = dict(MEASURE_RESULTS)
    return pl.DataFrame([{name: row.get(name) for name in schema} for row in rows], schema=schema)
