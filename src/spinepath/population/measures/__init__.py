"""Quality measures of back-pain care over a population data set, computed with DuckDB.

``compute_measures(dataset, pathway, out_dir)`` gives the per-clinic results (``MEASURE_RESULTS``)
and writes the per-person table (``PERSON_RESULTS``) to ``out_dir/measure-people.parquet``;
``write_measures`` writes the rest beside it, with a FHIR MeasureReport per measure and the
gaps-in-care lists. DuckDB does the work out of core, within a memory limit (:mod:`.memory`).
Each measure's definition is in docs/measures/.
"""

from __future__ import annotations

from spinepath.population.measures.compute import MeasureResults, compute_measures
from spinepath.population.measures.dataset import Period
from spinepath.population.measures.definitions import Measure
from spinepath.population.measures.output import write_measures
from spinepath.population.measures.registry import BY_ID, MEASURES
from spinepath.population.measures.results import ALL_CLINICS, MEASURE_RESULTS, PERSON_RESULTS

__all__ = [
    "ALL_CLINICS",
    "BY_ID",
    "MEASURES",
    "MEASURE_RESULTS",
    "PERSON_RESULTS",
    "Measure",
    "MeasureResults",
    "Period",
    "compute_measures",
    "write_measures",
]
