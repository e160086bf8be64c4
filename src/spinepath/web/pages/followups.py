"""Follow-up questionnaires: which are due, the form in the site's wording, the progress chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from spinepath.instruments import catalogue
from spinepath.instruments.errors import InstrumentError, UnknownInstrumentError
from spinepath.instruments.progress import (
    ProgressReport,
    ScheduleOffset,
    SeriesEntry,
    progress,
)
from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.store.models import AssessmentRecord, Patient, ResponseRecord
from spinepath.web.deps import AppSettings, DbSession, PatientFromLink
from spinepath.web.pages.instrument_forms import (
    FOLLOW_UP_INSTRUMENTS,
    instrument_form,
    raw_values,
    read_answers,
    score_errors,
)
from spinepath.web.pages.patient import patient_url, redirect
from spinepath.web.pages.rendering import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class FollowUp:
    code: str
    title: str
    status: str
    """``due``, ``upcoming`` or ``done``."""
    next_date: dt.date | None
    available: bool
    url: str
    last_score: str | None


def instruments_for(record: AssessmentRecord) -> list[str]:
    codes: list[str] = []
    for region in record.intake.get("regions", []):
        for code in FOLLOW_UP_INSTRUMENTS.get(str(region.get("region")), ()):
            if code not in codes:
                codes.append(code)
    return codes


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


def progress_report(
    session: Session, patient: Patient, settings: Settings, today: dt.date
) -> ProgressReport:
    entries = series_entries(repository.list_responses(session, patient))
    return progress(entries, today=today, schedule=schedule(settings))


def follow_up_overview(
    session: Session, patient: Patient, record: AssessmentRecord, settings: Settings
) -> list[FollowUp]:
    today = dt.date.today()
    report = progress_report(session, patient, settings, today)
    by_code = {s.instrument: s for s in report.series}
    overview: list[FollowUp] = []
    for code in instruments_for(record):
        definition = catalogue.get(code)
        form_def = instrument_form(code, settings)
        series = by_code.get(code)
        status, last = "due", None
        next_date: dt.date | None = today
        if series is not None:
            open_visits = [v for v in series.schedule if v.status == "due"]
            upcoming = [v for v in series.schedule if v.status == "upcoming"]
            if open_visits:
                status, next_date = "due", open_visits[0].target
            elif upcoming:
                status, next_date = "upcoming", upcoming[0].window_start
            else:
                status, next_date = "done", None
            scored = [p for p in series.points if p.valid and p.score is not None]
            if scored:
                last = f"{scored[-1].score:g} {series.score_unit}"
        overview.append(
            FollowUp(
                code=code,
                title=definition.short_name,
                status=status,
                next_date=next_date,
                available=form_def.available,
                url=patient_url_for_follow_up(code),
                last_score=last,
            )
        )
    return overview


def patient_url_for_follow_up(code: str) -> str:
    """Relative to the patient's base URL (``/p/{link_token}``)."""
    return f"follow-up/{code}"


def _form_or_404(code: str, settings: Settings) -> Any:
    try:
        return instrument_form(code, settings)
    except UnknownInstrumentError as exc:
        raise HTTPException(status_code=404, detail="no such questionnaire") from exc


def _render_form(
    request: Request,
    link_token: str,
    form_def: Any,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "patient/follow_up.html",
        {
            "form_def": form_def,
            "values": values,
            "errors": errors,
            "action": patient_url(link_token, "follow-up", form_def.code),
            "back": patient_url(link_token, "result"),
        },
        status_code,
    )


@router.get("/p/{link_token}/follow-up/{code}", response_class=HTMLResponse)
def follow_up_page(
    request: Request, link_token: str, code: str, patient: PatientFromLink, settings: AppSettings
) -> Response:
    form_def = _form_or_404(code, settings)
    return _render_form(request, link_token, form_def, {}, {})


@router.post("/p/{link_token}/follow-up/{code}", response_class=HTMLResponse)
async def follow_up_submit(
    request: Request,
    link_token: str,
    code: str,
    patient: PatientFromLink,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    form_def = _form_or_404(code, settings)
    if not form_def.available:
        return _render_form(request, link_token, form_def, {}, {}, 409)
    form = await request.form()
    answers = read_answers(form_def, form)
    result, errors = score_errors(form_def.code, answers)
    if errors or result is None:
        return _render_form(request, link_token, form_def, raw_values(form_def, form), errors, 422)
    repository.record_response(
        session,
        patient,
        instrument=form_def.code,
        answers=answers,
        score=result.model_dump(mode="json"),
        taken_on=dt.date.today(),
    )
    return redirect(patient_url(link_token, "result") + "#follow-ups")


@router.get("/p/{link_token}/progress.svg")
def progress_chart(
    link_token: str, patient: PatientFromLink, session: DbSession, settings: AppSettings
) -> Response:
    return progress_svg(session, patient, settings)


def progress_svg(session: Session, patient: Patient, settings: Settings) -> Response:
    import vl_convert as vlc

    from spinepath.instruments.plot import trajectory_spec

    report = progress_report(session, patient, settings, dt.date.today())
    try:
        spec = trajectory_spec(report)
    except InstrumentError as exc:
        raise HTTPException(status_code=404, detail="no questionnaire answers to plot yet") from exc
    svg: str = vlc.vegalite_to_svg(spec)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})
