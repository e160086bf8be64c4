"""Follow-up questionnaires: the form in the site's wording, the progress chart.

Which questionnaires are due, and the progress report behind the chart, are in ``shared``:
the result page and the clinician's patient page show them too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from spinepath import clock
from spinepath.instruments.errors import UnknownInstrumentError
from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.web.deps import AppSettings, DbSession, PatientFromLink, SubmittedForm
from spinepath.web.pages.instrument_forms import (
    instrument_form,
    raw_values,
    read_answers,
    score_errors,
)
from spinepath.web.pages.rendering import render
from spinepath.web.pages.shared import patient_url, progress_svg, redirect

router = APIRouter(include_in_schema=False)


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
def follow_up_submit(
    request: Request,
    link_token: str,
    code: str,
    patient: PatientFromLink,
    session: DbSession,
    settings: AppSettings,
    form: SubmittedForm,
) -> Response:
    form_def = _form_or_404(code, settings)
    if not form_def.available:
        return _render_form(request, link_token, form_def, {}, {}, 409)
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
        taken_on=clock.today(),
    )
    return redirect(patient_url(link_token, "result") + "#follow-ups")


@router.get("/p/{link_token}/progress.svg")
def progress_chart(
    link_token: str, patient: PatientFromLink, session: DbSession, settings: AppSettings
) -> Response:
    return progress_svg(session, patient, settings)
