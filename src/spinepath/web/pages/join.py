"""Joining a clinic with its code: the ``/join/{code}`` landing a clinic's QR code opens, and a
self-started patient entering their clinic's code (``/p/{link_token}/join``).

A code only ever gives a patient *without* a clinic to one; it never moves a patient between
clinics. Wrong codes are counted and limited like starting a questionnaire (``web.security``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from spinepath.care import alerts
from spinepath.settings import Settings
from spinepath.store import enrolment, repository
from spinepath.store.models import Clinic, Patient
from spinepath.web.deps import AppSettings, DbSession, PatientFromLink, SubmittedForm, audit
from spinepath.web.pages import worklist
from spinepath.web.pages.rendering import render
from spinepath.web.pages.shared import patient_url, redirect, site_base
from spinepath.web.pages.steps import EMERGENCY
from spinepath.web.security import (
    count_start,
    count_wrong_join_code,
    join_code_allowed,
    start_allowed,
)

router = APIRouter(include_in_schema=False)

JOIN = "/join"
CODE_FIELD = "code"
WRONG_CODE = (
    "We could not find a clinic with that code. Check it with your clinic: a code has 8 "
    "letters and numbers, like ABCD-2345."
)
TOO_MANY = "Too many codes have been tried from here. Try again later."


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _check_rate(request: Request, session: Session, settings: Settings) -> None:
    """429 once this address (or everyone together) has tried too many wrong codes."""
    if not join_code_allowed(session, settings, _client(request)):
        raise HTTPException(
            status_code=429,
            detail=TOO_MANY,
            headers={"Retry-After": str(settings.start_rate_window_seconds)},
        )


def _find_clinic(
    request: Request, session: Session, settings: Settings, code: str, actor: str | None
) -> Clinic | None:
    """The clinic of a live code; a wrong code is counted towards the limit and audited."""
    _check_rate(request, session, settings)
    clinic = enrolment.clinic_for_code(session, code)
    if clinic is None:
        count_wrong_join_code(session, settings, _client(request))
        route = request.scope.get("route")
        template = getattr(route, "path", request.url.path)
        repository.record_audit(
            session,
            actor_kind="patient" if actor else "anonymous",
            actor_id=actor,
            action="join_code",
            patient_id=actor,
            route=f"{request.method} {template}",
            outcome="not_found",
        )
    return clinic


def _entry(action: str, code: str = "", error: str | None = None) -> dict[str, Any]:
    return {"action": action, "code": code, "errors": {CODE_FIELD: error} if error else {}}


@router.get(JOIN, response_class=HTMLResponse)
def join_page(request: Request) -> Response:
    return render(request, "patient/join.html", _entry(JOIN))


@router.post(JOIN, response_class=HTMLResponse)
def join_with_code(
    request: Request, session: DbSession, settings: AppSettings, form: SubmittedForm
) -> Response:
    code = str(form.get(CODE_FIELD) or "")[:40]
    clinic = _find_clinic(request, session, settings, code, None)
    if clinic is None:
        return render(request, "patient/join.html", _entry(JOIN, code, WRONG_CODE), 422)
    return redirect(f"{JOIN}/{enrolment.normalise_code(code)}")


@router.get(JOIN + "/{join_code}", response_class=HTMLResponse)
def clinic_landing(
    join_code: str, request: Request, session: DbSession, settings: AppSettings
) -> Response:
    """What a clinic's QR code opens: whose clinic it is, and who will see the answers."""
    clinic = _find_clinic(request, session, settings, join_code, None)
    if clinic is None:
        return render(request, "patient/join.html", _entry(JOIN, join_code[:40], WRONG_CODE), 404)
    context = {"clinic": clinic, "action": f"{JOIN}/{enrolment.normalise_code(join_code)}"}
    return render(request, "patient/join_start.html", context)


@router.post(JOIN + "/{join_code}")
def start_with_clinic(
    join_code: str, request: Request, session: DbSession, settings: AppSettings
) -> Response:
    """A new questionnaire that belongs to the clinic from the start."""
    clinic = _find_clinic(request, session, settings, join_code, None)
    if clinic is None:
        return render(request, "patient/join.html", _entry(JOIN, join_code[:40], WRONG_CODE), 404)
    client = _client(request)
    if not start_allowed(session, settings, client):
        raise HTTPException(
            status_code=429,
            detail="Too many new questionnaires have been started. Try again later.",
            headers={"Retry-After": str(settings.start_rate_window_seconds)},
        )
    count_start(session, settings, client)
    patient, link_token = repository.create_patient(session, clinic.id)
    repository.save_draft(session, patient, {}, EMERGENCY.slug)
    for action in ("start", "join_clinic"):
        repository.record_audit(
            session,
            actor_kind="patient",
            actor_id=patient.id,
            action=action,
            patient_id=patient.id,
            clinic_id=clinic.id,
            route=f"POST {JOIN}/{{join_code}}",
        )
    return redirect(patient_url(link_token, "step", EMERGENCY.slug))


def _patient_entry(link_token: str, code: str = "", error: str | None = None) -> dict[str, Any]:
    return {**_entry(patient_url(link_token, "join"), code, error), "back": patient_url(link_token)}


@router.get("/p/{link_token}/join", response_class=HTMLResponse)
def patient_join_page(
    request: Request, link_token: str, patient: PatientFromLink, session: DbSession
) -> Response:
    clinic = enrolment.clinic_of(session, patient)
    context = {**_patient_entry(link_token), "clinic": clinic}
    return render(request, "patient/join.html", context)


@router.post("/p/{link_token}/join", response_class=HTMLResponse)
def patient_join(
    request: Request,
    link_token: str,
    patient: PatientFromLink,
    session: DbSession,
    settings: AppSettings,
    form: SubmittedForm,
) -> Response:
    """First the code (the clinic is named and the patient asked to confirm), then sharing."""
    current = enrolment.clinic_of(session, patient)
    if current is not None:
        # Never moved between clinics, whatever code is sent.
        context = {**_patient_entry(link_token), "clinic": current}
        return render(request, "patient/join.html", context, 409)
    code = str(form.get(CODE_FIELD) or "")[:40]
    clinic = _find_clinic(request, session, settings, code, patient.id)
    if clinic is None:
        return render(
            request, "patient/join.html", _patient_entry(link_token, code, WRONG_CODE), 422
        )
    if form.get("confirm") != "yes":
        context = {
            "clinic": clinic,
            "code": enrolment.normalise_code(code),
            "action": patient_url(link_token, "join"),
            "back": patient_url(link_token),
        }
        return render(request, "patient/join_confirm.html", context)
    try:
        enrolment.attach_to_clinic(session, patient, clinic.id)
    except enrolment.AlreadyInClinicError:
        session.refresh(patient)  # another request gave them a clinic a moment ago
        context = {**_patient_entry(link_token), "clinic": enrolment.clinic_of(session, patient)}
        return render(request, "patient/join.html", context, 409)
    audit(
        request,
        session,
        actor_kind="patient",
        actor_id=patient.id,
        patient=patient,
        action="join_clinic",
    )
    session.refresh(patient)
    _alert_on_joining(request, session, settings, patient)
    return redirect(patient_url(link_token, "join"))


def _alert_on_joining(
    request: Request, session: Session, settings: Settings, patient: Patient
) -> None:
    """A patient who joins with a questionnaire stopped at the emergency screen, or an urgent
    or emergency result, is news to the clinic: the same alert as if they had been invited."""
    base = site_base(request, settings)
    latest = repository.latest_assessment(session, patient)
    stop = worklist.pending_stop(
        repository.load_draft(session, patient), latest.created_at if latest else None
    )
    if stop is not None:
        alerts.raise_for_emergency_stop(session, patient, stop.reasons, base)
    elif latest is not None:
        alerts.raise_for_assessment(session, patient, latest, base)
