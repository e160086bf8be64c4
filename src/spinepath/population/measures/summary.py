"""From the per-person table to one row per measure and clinic: counts, rates, intervals, funnel
limits, centiles, waiting-time quantiles and case-mix adjustment (``MEASURE_RESULTS``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import polars as pl

from spinepath.population.measures import statistics
from spinepath.population.measures.casemix import Adjustment
from spinepath.population.measures.definitions import Kind, Measure
from spinepath.population.measures.results import ALL_CLINICS, MEASURE_RESULTS
from spinepath.population.measures.survival import km_quantiles

_COUNTS = f"""
SELECT measure_id,
       CASE WHEN grouping(clinic_id) = 1 THEN '{ALL_CLINICS}' ELSE clinic_id END AS clinic_id,
       count(*) AS initial_population,
       count(*) FILTER (WHERE in_denominator) AS denominator,
       count(*) FILTER (WHERE excluded) AS exclusions,
       count(*) FILTER (WHERE in_numerator) AS numerator
FROM person_results
GROUP BY GROUPING SETS ((measure_id, clinic_id), (measure_id))
HAVING grouping(clinic_id) = 1 OR clinic_id IS NOT NULL
ORDER BY measure_id, grouping(clinic_id) DESC, clinic_id
"""  # noqa: S608


def counts(
    people: pl.DataFrame, con: duckdb.DuckDBPyConnection | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The counts of each measure, the ``ALL`` row first, then each clinic's."""
    con = con or duckdb.connect()
    con.register("person_results", people.to_arrow())
    try:
        found: dict[str, list[dict[str, Any]]] = {}
        for row in con.sql(_COUNTS).pl().iter_rows(named=True):
            found.setdefault(row["measure_id"], []).append(row)
        return found
    finally:
        con.unregister("person_results")


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


def _waits(people: pl.DataFrame, clinic: str) -> list[float | None]:
    chosen = people if clinic == ALL_CLINICS else people.filter(pl.col("clinic_id") == clinic)
    days = chosen.get_column("days").fill_null(0).to_list()
    seen = chosen.get_column("event_date").is_not_null().to_list()
    return km_quantiles(days, seen)


def measure_rows(
    measure: Measure,
    people: pl.DataFrame,
    found: Sequence[Mapping[str, Any]],
    adjustments: Mapping[str, Adjustment] | None = None,
) -> list[dict[str, Any]]:
    """The result rows of one measure from its counts (``ALL`` first) and its people."""
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
            row["p25_days"], row["median_days"], row["p75_days"] = _waits(people, row["clinic_id"])
        adjustment = (adjustments or {}).get(row["clinic_id"])
        if adjustment is not None:
            row["expected"] = adjustment.expected
            row["adjusted_rate"] = adjustment.adjusted_rate
    return rows


def results_frame(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """The rows as ``MEASURE_RESULTS``, every column present."""
    schema = dict(MEASURE_RESULTS)
    return pl.DataFrame([{name: row.get(name) for name in schema} for row in rows], schema=schema)
