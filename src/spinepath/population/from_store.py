"""spinepath's own database (``spinepath.store``) as a population data set.

What spinepath stores becomes rows as follows (column by column in docs/population-data.md):

* a clinic is a ``clinic_id`` (its number), a patient a person (``person_id`` is the patient's
  id), with the sex of their latest intake; the database holds no birth date;
* every assessment is a row of ``assessments`` (its stored intake, read by the intake model),
  dated the day, in UTC, it was stored;
* a patient's first assessment opens their one episode: the region and duration of the first
  region they listed give ``region`` and ``onset_date``; there is no diagnosis code or setting;
* an intake with STarT Back answered is a risk stratification (``procedures``, LOINC 91349-1);
* questionnaire responses are PROMs: per instrument, the first validly scored response is the
  baseline and the follow-ups fall due 6 weeks, 3 and 12 months after it, each done by a
  response within ``instruments.progress``'s tolerance of its date, as the follow-up pages count
  them; one due by ``as_of`` and not done is a row without a completion; a response that fits
  no time point is a row without one;
* alerts, which no table of the data set holds, go to ``alerts.parquet`` beside the tables.

Imaging, prescriptions, other diagnoses, procedures and referrals are not in spinepath's
database: those tables are written empty. Patients are read a chunk at a time, so memory does
not grow with the database. A stored intake the model refuses is an error row, not an abort.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine, create_engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session

from spinepath import clock
from spinepath.instruments import catalogue
from spinepath.instruments.progress import (
    DEFAULT_TOLERANCE_DAYS,
    parse_schedule,
    scheduled_visits,
)
from spinepath.pathway.intake import Intake
from spinepath.population import tables
from spinepath.population.error_log import ERRORS_FILE, ErrorLog
from spinepath.population.intake_column import IntakeError, intake_record, read_intake
from spinepath.population.output_dir import new_directory
from spinepath.population.table_sink import CHUNK_ROWS, DatasetWriter, TableSink
from spinepath.store.models import Alert, AssessmentRecord, Patient, ResponseRecord

Progress = Callable[[int], None]
"""Called with the number of patients read since the last call."""

ALERTS: tables.Schema = {
    "person_id": pl.String,
    "clinic_id": pl.String,
    "assessment_id": pl.String,  # the assessment that raised it; null for an emergency stop
    "kind": pl.String,  # emergency_stop | urgent_result | emergency_result
    "level": pl.String,
    "raised_on": pl.Date,
    "seen_on": pl.Date,
    "actioned_on": pl.Date,
}
"""Alerts raised for clinics (``store.models.Alert``), dates in UTC."""

ALERTS_FILE = "alerts.parquet"
SUMMARY_FILE = "import-summary.json"
TIMEPOINTS = dict(zip(tables.TIMEPOINTS, parse_schedule("0d,6w,3m,12m"), strict=True))
"""The data set's time points as follow-up offsets from the baseline response."""
STARTBACK_PANEL = ("http://loinc.org", "91349-1")
PATIENTS_PER_CHUNK = 500
REQUIRED_TABLES = ("clinics", "patients", "assessments", "responses", "alerts")


class StoreError(ValueError):
    """The database cannot be read as spinepath's: the message says why."""


@dataclass
class StoreImportSummary:
    patients: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    alerts: int = 0
    errors: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "patients": self.patients,
            "rows": self.rows,
            "alerts": self.alerts,
            "errors": self.errors,
        }


def _engine(database_url: str) -> Engine:
    """A read-only handle on the database; StoreError if it is not spinepath's."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise StoreError(f"{database_url!r} is not a database URL") from None
    if url.get_backend_name() == "sqlite":
        path = url.database
        if not path or path == ":memory:" or not Path(path).is_file():
            raise StoreError(f"{url.render_as_string()}: no SQLite database file there")
    try:
        engine = create_engine(url)
        if url.get_backend_name() == "postgresql":
            # One snapshot for the whole read, whatever the app writes meanwhile.
            engine = engine.execution_options(isolation_level="REPEATABLE READ")
        found = set(inspect(engine).get_table_names())
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"{url.render_as_string()}: cannot be read ({exc})") from None
    missing = [name for name in REQUIRED_TABLES if name not in found]
    if missing:
        engine.dispose()
        raise StoreError(
            f"{url.render_as_string()}: not a spinepath database (no table "
            f"{', '.join(missing)}; run `spinepath db upgrade` on it first)"
        )
    return engine


def count_patients(database_url: str) -> int:
    """How many patients the database holds; StoreError as for :func:`import_store`."""
    engine = _engine(database_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(select(func.count()).select_from(Patient)).scalar_one()
    except SQLAlchemyError as exc:
        raise StoreError(f"the database could not be read ({exc})") from None
    finally:
        engine.dispose()
    return int(found)


def _day(moment: Any) -> date | None:
    return None if moment is None else moment.date()


@dataclass
class _Assessed:
    assessment_id: str
    assessed_on: date | None
    intake: Intake


class _Patient:
    """One patient's rows, built from their records."""

    def __init__(self, writer: DatasetWriter, errors: ErrorLog, as_of: date) -> None:
        self.writer = writer
        self.errors = errors
        self.as_of = as_of

    def assessments(self, person_id: str, records: Sequence[Any]) -> list[_Assessed]:
        found = []
        for record in records:
            try:
                intake = read_intake(record.intake)
            except IntakeError as exc:
                self.errors.add("assessments", record.id, "intake", str(exc))
                continue
            found.append(_Assessed(str(record.id), _day(record.created_at), intake))
        return found

    def write(self, person_id: str, clinic_id: int | None, assessed: list[_Assessed]) -> None:
        latest_sex = next((a.intake.sex for a in reversed(assessed) if a.intake.sex), None)
        self.writer.add(
            "people",
            {
                "person_id": person_id,
                "clinic_id": None if clinic_id is None else str(clinic_id),
                "sex": latest_sex or "unknown",
                "birth_date": None,
            },
        )
        if not assessed:
            return
        first = assessed[0]
        episode_id = f"e{first.assessment_id}"
        region = first.intake.regions[0]
        onset = None
        if first.assessed_on is not None:
            onset = first.assessed_on - timedelta(weeks=region.duration_weeks)
        self.writer.add(
            "episodes",
            {
                "person_id": person_id,
                "episode_id": episode_id,
                "region": region.region,
                "diagnosis_date": first.assessed_on,
                "onset_date": onset,
                "setting": None,
                "code_system": None,
                "code": None,
            },
        )
        for item in assessed:
            self.writer.add(
                "assessments",
                {
                    "person_id": person_id,
                    "assessment_id": item.assessment_id,
                    "episode_id": episode_id,
                    "assessed_on": item.assessed_on,
                    "intake": intake_record(item.intake),
                },
            )
            if item.intake.startback is not None:
                self.writer.add(
                    "procedures",
                    {
                        "person_id": person_id,
                        "performed_on": item.assessed_on,
                        "kind": "risk_stratification",
                        "code_system": STARTBACK_PANEL[0],
                        "code": STARTBACK_PANEL[1],
                    },
                )

    def proms(self, person_id: str, responses: Sequence[Any]) -> None:
        by_instrument: dict[str, list[Any]] = defaultdict(list)
        for response in responses:
            by_instrument[response.instrument].append(response)
        for instrument, group in by_instrument.items():
            for row in _prom_rows(instrument, group, self.as_of):
                self.writer.add("proms", {"person_id": person_id, **row})


def _score(stored: object) -> float | None:
    if not isinstance(stored, dict) or stored.get("valid") is not True:
        return None
    value = stored.get("score")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _scheduled(instrument: str) -> bool:
    definition = catalogue.definitions().get(instrument)
    return definition is not None and not definition.rates_change


def _prom_rows(instrument: str, responses: Sequence[Any], as_of: date) -> list[dict[str, Any]]:
    """The PROM rows of one instrument's responses (sorted by date)."""
    baseline = next((r for r in responses if _score(r.score) is not None), None)
    if baseline is None or not _scheduled(instrument):
        return [_done(instrument, None, None, r) for r in responses]
    dates = [r.taken_on for r in responses]
    visits = scheduled_visits(
        baseline.taken_on, dates, list(TIMEPOINTS.values()), DEFAULT_TOLERANCE_DAYS, as_of
    )
    rows: list[dict[str, Any]] = []
    used: set[int] = set()
    for timepoint, visit in zip(TIMEPOINTS, visits, strict=True):
        if visit.completed_on is not None:
            response = next(
                r for r in responses if r.taken_on == visit.completed_on and id(r) not in used
            )
            used.add(id(response))
            rows.append(_done(instrument, timepoint, visit.target, response))
        elif visit.status in ("due", "overdue") and visit.target <= as_of:
            rows.append(
                {
                    "instrument": instrument,
                    "timepoint": timepoint,
                    "due_on": visit.target,
                    "completed_on": None,
                    "score": None,
                }
            )
    rows += [_done(instrument, None, None, r) for r in responses if id(r) not in used]
    return rows


def _done(
    instrument: str, timepoint: str | None, due: date | None, response: Any
) -> dict[str, Any]:
    return {
        "instrument": instrument,
        "timepoint": timepoint,
        "due_on": due,
        "completed_on": response.taken_on,
        "score": _score(response.score),
    }


def _chunk_records(session: Session, ids: list[str]) -> tuple[dict[str, list[Any]], ...]:
    assessments: dict[str, list[Any]] = defaultdict(list)
    responses: dict[str, list[Any]] = defaultdict(list)
    alerts: dict[str, list[Any]] = defaultdict(list)
    query = (
        select(AssessmentRecord.id, AssessmentRecord.patient_id, AssessmentRecord.intake,
               AssessmentRecord.created_at)
        .where(AssessmentRecord.patient_id.in_(ids))
        .order_by(AssessmentRecord.created_at, AssessmentRecord.id)
    )  # fmt: skip
    for row in session.execute(query):
        assessments[row.patient_id].append(row)
    query_responses = (
        select(ResponseRecord.patient_id, ResponseRecord.instrument, ResponseRecord.score,
               ResponseRecord.taken_on)
        .where(ResponseRecord.patient_id.in_(ids))
        .order_by(ResponseRecord.taken_on, ResponseRecord.id)
    )  # fmt: skip
    for row in session.execute(query_responses):
        responses[row.patient_id].append(row)
    query_alerts = (
        select(Alert).where(Alert.patient_id.in_(ids)).order_by(Alert.created_at, Alert.id)
    )
    for alert in session.scalars(query_alerts):
        alerts[alert.patient_id].append(alert)
    return assessments, responses, alerts


def _alert_row(alert: Alert) -> dict[str, Any]:
    return {
        "person_id": alert.patient_id,
        "clinic_id": str(alert.clinic_id),
        "assessment_id": None if alert.assessment_id is None else str(alert.assessment_id),
        "kind": alert.kind,
        "level": alert.level,
        "raised_on": _day(alert.created_at),
        "seen_on": _day(alert.seen_at),
        "actioned_on": _day(alert.actioned_at),
    }


def import_store(
    database_url: str,
    out_dir: Path,
    *,
    as_of: date | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
) -> StoreImportSummary:
    """Reads spinepath's database at ``database_url`` into a new data set in ``out_dir``.

    ``as_of`` (default today) decides which follow-ups are due. StoreError when the database
    cannot be read as spinepath's, OutputDirError when ``out_dir`` cannot be written."""
    engine = _engine(database_url)
    today = as_of or clock.today()
    summary = StoreImportSummary()
    try:
        with new_directory(out_dir) as work, Session(engine) as session, session.begin():
            writer = DatasetWriter(work, chunk_rows=chunk_rows)
            alerts = TableSink(work / ALERTS_FILE, ALERTS, chunk_rows=chunk_rows)
            errors = ErrorLog(work / ERRORS_FILE)
            patient = _Patient(writer, errors, today)
            try:
                query = select(Patient.id, Patient.clinic_id).order_by(
                    Patient.created_at, Patient.id
                )
                for chunk in session.execute(query).yield_per(PATIENTS_PER_CHUNK).partitions():
                    ids = [row.id for row in chunk]
                    assessed, responses, raised = _chunk_records(session, ids)
                    for row in chunk:
                        found = patient.assessments(row.id, assessed.get(row.id, []))
                        patient.write(row.id, row.clinic_id, found)
                        patient.proms(row.id, responses.get(row.id, []))
                        for alert in raised.get(row.id, []):
                            alerts.add(_alert_row(alert))
                    summary.patients += len(chunk)
                    if progress is not None:
                        progress(len(chunk))
                summary.rows = writer.close()
                summary.alerts = alerts.close()
            finally:
                errors.close()
                alerts.abort()
                for sink in writer.sinks.values():
                    sink.abort()
            summary.errors = errors.count
            (work / SUMMARY_FILE).write_text(
                json.dumps(summary.as_json(), indent=2) + "\n", encoding="utf-8"
            )
    except SQLAlchemyError as exc:
        raise StoreError(f"the database could not be read ({exc})") from None
    finally:
        engine.dispose()
    return summary
