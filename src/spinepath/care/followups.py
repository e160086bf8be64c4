"""Which follow-up questionnaires a patient has, and when each falls due: one definition for the
result page, the clinician's page and the reminder e-mails.

The questionnaires are those of the person's painful regions (ODI/RMDQ for low back, NDI for the
neck; docs/instruments.md) and the global rating of change, of which only those the server can
show count: a licensed one without installed wording is never asked, so never reminded. Each
questionnaire follows the schedule from its own first answer; never answered, it is due now. The
change rating has no first answer of its own: it falls due at each follow-up counted from the
person's first answered questionnaire (or the assessment, when none).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from spinepath import clock
from spinepath.instruments import catalogue
from spinepath.instruments.errors import WordingFileError
from spinepath.instruments.progress import (
    DEFAULT_TOLERANCE_DAYS,
    InstrumentProgress,
    ProgressReport,
    ScheduledVisit,
    ScheduleOffset,
    SeriesEntry,
    progress,
    scheduled_visits,
)
from spinepath.instruments.site_wording import directory_to_read
from spinepath.instruments.wording import find_wording
from spinepath.settings import Settings
from spinepath.store.models import AssessmentRecord, Patient, ResponseRecord

REGION_INSTRUMENTS: dict[str, tuple[str, ...]] = {
    "low_back": ("odi", "rmdq", "nrs_back", "nrs_leg"),
    "upper_back": ("nrs_back",),
    "neck": ("ndi", "nrs_neck", "nrs_arm"),
}
"""Which follow-up questionnaires fit which painful region."""

FOLLOW_UP_ONLY: tuple[str, ...] = ("global_change",)
"""Asked at every follow-up whatever the region, but never at baseline: the answer rates change
since the first questionnaire, so there is nothing to rate until some time has passed."""

Status = Literal["due", "upcoming", "done"]


def instruments_for(intake: Mapping[str, Any]) -> list[str]:
    """The questionnaires of the person's painful regions, then the change rating."""
    codes: list[str] = []
    regions = intake.get("regions", [])
    for region in regions if isinstance(regions, list) else []:
        name = str(region.get("region")) if isinstance(region, Mapping) else ""
        for code in REGION_INSTRUMENTS.get(name, ()):
            if code not in codes:
                codes.append(code)
    return codes + [c for c in FOLLOW_UP_ONLY if c not in codes]


def can_show(code: str, settings: Settings) -> bool:
    """Whether the server has wording for the questionnaire (a site file or bundled)."""
    directory = directory_to_read(settings.instrument_wording_dir, settings.data_dir)
    try:
        return find_wording(catalogue.get(code), directory) is not None
    except WordingFileError:
        return False


def schedule(settings: Settings) -> tuple[ScheduleOffset, ...]:
    weeks = sorted({w for w in settings.follow_up_weeks if w > 0})
    return (
        ScheduleOffset(amount=0, unit="d"),
        *(ScheduleOffset(amount=w, unit="w") for w in weeks),
    )


def series_entries(responses: list[ResponseRecord]) -> list[SeriesEntry]:
    """One entry per instrument and day (the latest response that day counts)."""
    by_day: dict[tuple[str, dt.date], ResponseRecord] = {}
    for response in responses:
        by_day[(response.instrument, response.taken_on)] = response
    return [
        SeriesEntry(date=r.taken_on, instrument=r.instrument, answers=dict(r.answers))
        for r in by_day.values()
    ]


def responses_of(session: Session, patient: Patient) -> list[ResponseRecord]:
    return list(
        session.scalars(
            select(ResponseRecord)
            .where(ResponseRecord.patient_id == patient.id)
            .order_by(ResponseRecord.taken_on, ResponseRecord.id)
        )
    )


def report_for(
    session: Session, patient: Patient, settings: Settings, today: dt.date
) -> ProgressReport:
    entries = series_entries(responses_of(session, patient))
    return progress(entries, today=today, schedule=schedule(settings))


def follow_up_start(report: ProgressReport, record: AssessmentRecord) -> dt.date:
    """Where the person's follow-up began: their first answered questionnaire, or the
    assessment when they have answered none."""
    starts = [
        s.baseline_date
        for s in report.series
        if s.baseline_date is not None and not catalogue.get(s.instrument).rates_change
    ]
    return min([*starts, record.created_at.date()])


@dataclass(frozen=True)
class FollowUpStatus:
    code: str
    status: Status
    next_date: dt.date | None
    """When it is due (due), when its window opens (upcoming), or None (done)."""
    visit: ScheduledVisit | None
    """The scheduled visit it is due or next for; None when never answered (due now)."""
    series: InstrumentProgress | None


def _first(visits: list[ScheduledVisit]) -> tuple[Status, dt.date | None, ScheduledVisit | None]:
    for visit in visits:
        if visit.status == "due":
            return "due", visit.target, visit
    for visit in visits:
        if visit.status == "upcoming":
            return "upcoming", visit.window_start, visit
    return "done", None, None


def statuses(
    report: ProgressReport, record: AssessmentRecord, settings: Settings, today: dt.date
) -> list[FollowUpStatus]:
    """Each questionnaire the person can answer here, with where it stands today."""
    by_code = {s.instrument: s for s in report.series}
    start = follow_up_start(report, record)
    found: list[FollowUpStatus] = []
    for code in instruments_for(record.intake):
        if not can_show(code, settings):
            continue
        series = by_code.get(code)
        if catalogue.get(code).rates_change:
            follow_ups = [o for o in schedule(settings) if o.amount > 0]
            answered = [p.date for p in series.points] if series is not None else []
            visits = scheduled_visits(start, answered, follow_ups, DEFAULT_TOLERANCE_DAYS, today)
            found.append(FollowUpStatus(code, *_first(visits), series))
        elif series is not None:
            found.append(FollowUpStatus(code, *_first(series.schedule), series))
        else:
            found.append(FollowUpStatus(code, "due", today, None, None))
    return found


@dataclass(frozen=True)
class DueVisit:
    label: str
    """The follow-up time point, e.g. ``6 weeks``: reminders are counted per time point."""
    target: dt.date
    codes: tuple[str, ...]
    """The questionnaires due at it."""


def due_visit(
    session: Session, settings: Settings, patient: Patient, today: dt.date | None = None
) -> DueVisit | None:
    """The earliest follow-up time point with questionnaires due today, if any.

    Questionnaires never answered are due from the assessment on, but that is the first
    questionnaire, asked on the result page itself: only scheduled follow-ups are reminded."""
    day = today or clock.today()
    record = session.scalar(
        select(AssessmentRecord)
        .where(AssessmentRecord.patient_id == patient.id)
        .order_by(AssessmentRecord.created_at.desc(), AssessmentRecord.id.desc())
        .limit(1)
    )
    if record is None:
        return None
    report = report_for(session, patient, settings, day)
    due = [
        s
        for s in statuses(report, record, settings, day)
        if s.status == "due" and s.visit is not None and s.visit.label != "baseline"
    ]
    if not due:
        return None
    first = min(due, key=lambda s: s.visit.target if s.visit else day)
    if first.visit is None:
        raise ValueError("a scheduled follow-up without its visit")
    label = first.visit.label
    codes = tuple(s.code for s in due if s.visit is not None and s.visit.label == label)
    return DueVisit(label=label, target=first.visit.target, codes=codes)
