"""Writing the results: the tables, the FHIR MeasureReports and the gaps-in-care lists.

``write_measures`` writes into a directory (created if missing):

* ``measures.parquet`` and ``measures.csv``: ``MEASURE_RESULTS``;
* ``measure-people.parquet``: ``PERSON_RESULTS``;
* ``measure-reports.json``: a FHIR R4 Bundle of one MeasureReport per measure;
* ``gaps/<measure_id>.csv``: per measure, the people of the denominator who did not get the
  care the measure asks for, or who got care it advises against, by clinic, with why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from spinepath.population.measures.dataset import Period
from spinepath.population.measures.definitions import Measure
from spinepath.population.measures.fhir import report_bundle
from spinepath.population.measures.registry import MEASURES

GAP_COLUMNS = ("clinic_id", "person_id", "index_date", "reason")


def gaps(measure: Measure, people: pl.DataFrame) -> pl.DataFrame:
    """The gaps-in-care list of one measure from its rows of the per-person table."""
    chosen = people.filter(
        (pl.col("measure_id") == measure.id)
        & pl.col("in_denominator")
        & (pl.col("in_numerator") != measure.numerator_is_good)
    )
    reason = pl.lit(measure.gap)
    with_detail = pl.concat_str([reason, pl.lit(": "), pl.col("detail")])
    return chosen.sort("clinic_id", "person_id", nulls_last=True).select(
        "clinic_id",
        "person_id",
        "index_date",
        pl.when(pl.col("detail").is_null()).then(reason).otherwise(with_detail).alias("reason"),
    )


def write_measures(
    results: pl.DataFrame,
    people: pl.DataFrame,
    out_dir: Path,
    *,
    period: Period,
    measures: Sequence[Measure] = MEASURES,
    generated: datetime | None = None,
) -> None:
    """Write every output of the measures into ``out_dir``."""
    moment = generated or datetime.now(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    results.write_parquet(out_dir / "measures.parquet")
    results.write_csv(out_dir / "measures.csv")
    people.write_parquet(out_dir / "measure-people.parquet")
    bundle = report_bundle(results, measures, period, moment)
    (out_dir / "measure-reports.json").write_text(
        json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    gap_dir = out_dir / "gaps"
    gap_dir.mkdir(exist_ok=True)
    for measure in measures:
        gaps(measure, people).write_csv(gap_dir / f"{measure.id}.csv")
