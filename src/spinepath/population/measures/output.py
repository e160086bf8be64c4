"""Writing the results: the tables, the FHIR MeasureReports and the gaps-in-care lists.

``write_measures`` writes into a directory (created if missing):

* ``measures.parquet`` and ``measures.csv``: ``MEASURE_RESULTS``;
* ``measure-people.parquet``: ``PERSON_RESULTS``, as ``compute_measures`` wrote it (copied only
  when the directory is another one);
* ``measure-reports.json``: a FHIR R4 Bundle of one MeasureReport per measure;
* ``gaps/<measure_id>.csv``: per measure, the people of the denominator who did not get the
  care the measure asks for, or who got care it advises against, by clinic, with why. DuckDB
  writes them from the per-person file, sorting out of core, so no list is held in memory.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from spinepath.population.measures import memory
from spinepath.population.measures.compute import PEOPLE_FILE, MeasureResults
from spinepath.population.measures.definitions import Measure
from spinepath.population.measures.fhir import report_bundle
from spinepath.population.measures.query import literal

GAP_COLUMNS = ("clinic_id", "person_id", "index_date", "reason")
GAPS_DIR = "gaps"


def gaps_sql(measure: Measure, people: Path) -> str:
    """The gaps-in-care list of one measure from the per-person file ``people``, by clinic (no
    clinic last) then person."""
    reason = literal(measure.gap)
    return f"""
SELECT clinic_id, person_id, index_date,
       CASE WHEN detail IS NULL THEN {reason} ELSE {reason} || ': ' || detail END AS reason
FROM read_parquet({literal(str(people))})
WHERE measure_id = {literal(measure.id)} AND in_denominator
  AND in_numerator <> {str(measure.numerator_is_good).upper()}
ORDER BY clinic_id NULLS LAST, person_id
"""  # noqa: S608


def write_measures(
    found: MeasureResults,
    out_dir: Path,
    *,
    generated: datetime | None = None,
    memory_limit: int | None = None,
) -> None:
    """Write every output of the measures into ``out_dir``; sorting the gaps lists, DuckDB
    holds at most ``memory_limit`` bytes (``memory.memory_limit()`` by default)."""
    moment = generated or datetime.now(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = found.results
    results.write_parquet(out_dir / "measures.parquet")
    results.write_csv(out_dir / "measures.csv")
    people = out_dir / PEOPLE_FILE
    if not (people.exists() and people.samefile(found.people_path)):
        shutil.copyfile(found.people_path, people)
    bundle = report_bundle(results, found.measures, found.period, moment)
    (out_dir / "measure-reports.json").write_text(
        json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    gap_dir = out_dir / GAPS_DIR
    gap_dir.mkdir(exist_ok=True)
    with memory.connect(out_dir, limit=memory_limit) as con:
        for measure in found.measures:
            target = literal(str(gap_dir / f"{measure.id}.csv"))
            con.execute(f"COPY ({gaps_sql(measure, people)}) TO {target} (FORMAT csv, HEADER)")
