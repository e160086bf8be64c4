"""The results as FHIR R4: a Bundle (type collection) of one summary MeasureReport per measure.

Each report gives the initial population, denominator, denominator exclusions and numerator,
coded with HL7's measure-population code system, the measure score (numerator / denominator, as
the counts give it, also for a measure spinepath reports inverted; ``improvementNotation`` says
which way is better), and a stratifier with one stratum per clinic.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from spinepath.population.measures.dataset import Period
from spinepath.population.measures.definitions import Measure
from spinepath.population.measures.results import ALL_CLINICS

Json = dict[str, Any]

MEASURE_BASE = "https://spinepath.org/fhir/Measure"
"""spinepath's canonical identifiers live under https://spinepath.org/fhir/ (docs/instruments.md);
no Measure resource is published there yet."""
POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"
IMPROVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
POPULATIONS = (
    ("initial-population", "Initial Population", "initial_population"),
    ("denominator", "Denominator", "denominator"),
    ("denominator-exclusion", "Denominator Exclusion", "exclusions"),
    ("numerator", "Numerator", "numerator"),
)
_NAMESPACE = uuid.UUID("0b6d3c1e-2f7a-4d55-9a43-6f1e8e2c5a10")


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _populations(row: Mapping[str, Any]) -> list[Json]:
    return [
        {
            "code": {"coding": [{"system": POPULATION_SYSTEM, "code": code, "display": display}]},
            "count": int(row[column]),
        }
        for code, display, column in POPULATIONS
    ]


def _scored(row: Mapping[str, Any], found: Json) -> Json:
    if row["rate"] is not None:
        found["measureScore"] = {"value": round(float(row["rate"]), 6)}
    return found


def measure_report(
    measure: Measure, rows: Sequence[Mapping[str, Any]], period: Period, generated: datetime
) -> Json:
    """One summary MeasureReport from the measure's rows (``ALL`` and one per clinic)."""
    [total] = [r for r in rows if r["clinic_id"] == ALL_CLINICS]
    strata = [
        _scored(r, {"value": {"text": r["clinic_id"]}, "population": _populations(r)})
        for r in rows
        if r["clinic_id"] != ALL_CLINICS
    ]
    group = _scored(total, {"population": _populations(total)})
    if strata:
        group["stratifier"] = [{"code": [{"text": "clinic"}], "stratum": strata}]
    notation = "increase" if measure.numerator_is_good else "decrease"
    return {
        "resourceType": "MeasureReport",
        "id": measure.id,
        "status": "complete",
        "type": "summary",
        "measure": f"{MEASURE_BASE}/{measure.id}",
        "date": _instant(generated),
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "improvementNotation": {
            "coding": [{"system": IMPROVEMENT_SYSTEM, "code": notation}],
            "text": measure.title,
        },
        "group": [group],
    }


def report_bundle(
    results: pl.DataFrame,
    measures: Sequence[Measure],
    period: Period,
    generated: datetime,
) -> Json:
    """A collection Bundle of one MeasureReport per measure of ``measures`` in ``results``."""
    entries = []
    for measure in measures:
        rows = results.filter(pl.col("measure_id") == measure.id).to_dicts()
        if not rows:
            continue
        key = f"{measure.id}/{period.start}/{period.end}/{_instant(generated)}"
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid5(_NAMESPACE, key)}",
                "resource": measure_report(measure, rows, period, generated),
            }
        )
    return {
        "resourceType": "Bundle",
        "id": str(
            uuid.uuid5(_NAMESPACE, f"bundle/{period.start}/{period.end}/{_instant(generated)}")
        ),
        "type": "collection",
        "timestamp": _instant(generated),
        "entry": entries,
    }
