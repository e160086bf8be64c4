"""Clinician workspace: sign-in, the worklist, a patient's page, notes, invitations, audit log.

A clinician only ever sees their own clinic's patients: ``ClinicPatient`` answers 404 for any
other patient, and the worklist is filtered by clinic in the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from spinepath import clock
from spinepath.decision_aid.render import LEANING_WORDS
from spinepath.instruments.errors import InstrumentError
from spinepath.store import repository
from spinepath.store.models import ROW_ID_MAX, Patient, User
from spinepath.web.auth import InvalidCredentialsError, LoginRateLimitedError, sign_in, sign_out
from spinepath.web.deps import (
    LOGIN_PATH,
    AppSettings,
    ClinicPatient,
    CurrentAdmin,
    CurrentClinician,
    DbSession,
    OptionalUser,
    SubmittedForm,
    audit,
)
from spinepath.web.pages import forms
from spinepath.web.pages.clinical import Stop, emergency_stop
from spinepath.web.pages.rendering import render
from spinepath.web.pages.shared import absolute_link, progress_report, progress_svg, redirect
from spinepath.web.stored import load_assessment

router = APIRouter(include_in_schema=False)

WORKLIST = "/clinic"
AUDIT = "/admin/audit"
NOTE_MAX_CHARS = 5000
REFERENCE_MAX_CHARS = 100


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths: never an absolute or scheme-relative URL (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def home_for(user: User) -> str:
    return WORKLIST if user.clinic_id is not None else AUDIT


def _nav(user: User | None) -> dict[str, Any]:
    return {"user": user}


@router.get(LOGIN_PATH, response_class=HTMLResponse)
def login_page(
    request: Request, user: OptionalUser, next: str | None = Query(default=None, max_length=500)
) -> Response:
    if user is not None:
        return redirect(home_for(user))
    return render(
        request, "clinic/login.html", {"errors": {}, "email": "", "next": safe_next(next, "")}
    )


@router.post(LOGIN_PATH, response_class=HTMLResponse)
def login(request: Request, session: DbSession, form: SubmittedForm) -> Response:
    email = str(form.get("email") or "").strip()[:320]
    password = str(form.get("password") or "")[:1000]
    target = str(form.get("next") or "")
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "Enter your e-mail address."
    if not password:
        errors["password"] = "Enter your password."  # noqa: S105 - a message, not a password
    status = 422
    headers: dict[str, str] = {}
    if not errors:
        try:
            user = sign_in(request, session, email, password)
        except LoginRateLimitedError as wait:
            seconds = wait.retry_after_seconds
            when = f"{seconds} seconds" if seconds < 120 else f"{-(-seconds // 60)} minutes"
            errors[""] = f"Too many failed attempts. Wait {when} and try again."
            status = 429
            headers["Retry-After"] = str(seconds)
        except InvalidCredentialsError:
            errors["email"] = "The e-mail address or password is not right."
            status = 401
        else:
            return redirect(safe_next(target, home_for(user)))
    context = {"errors": errors, "email": email, "next": safe_next(target, "")}
    response = render(request, "clinic/login.html", context, status)
    response.headers.update(headers)
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession) -> Response:
    sign_out(request, session)
    return redirect(LOGIN_PATH)


WORKLIST_PAGE = 50
"""Rows per worklist page: the most urgent are always on the first."""


@router.get(WORKLIST, response_class=HTMLResponse)
def worklist(
    request: Request,
    user: CurrentClinician,
    session: DbSession,
    page: int = Query(default=1, ge=1, le=100_000),
) -> Response:
    if user.clinic_id is None:
        raise ValueError("user.clinic_id is missing")
    everyone = stopped_first(session, repository.worklist(session, user.clinic_id))
    start = (page - 1) * WORKLIST_PAGE
    rows = everyone[start : start + WORKLIST_PAGE]
    pages = max(1, -(-len(everyone) // WORKLIST_PAGE))
    repository.record_audit(
        session,
        actor_kind=user.role,
        actor_id=user.id,
        action="read",
        clinic_id=user.clinic_id,
        route=f"GET {WORKLIST}",
    )
    context = {**_nav(user), "rows": rows, "page": page, "pages": pages, "total": len(everyone)}
    return render(request, "clinic/worklist.html", context)


@dataclass(frozen=True)
class Row:
    """A worklist row, and the emergency stop of a questionnaire not yet sent, if any."""

    row: repository.WorklistRow
    stop: Stop | None


def stopped_first(session: Session, rows: list[repository.WorklistRow]) -> list[Row]:
    """Patients whose questionnaire stopped at an emergency answer lead the list.

    They have no assessment yet (the flow stopped before it could be sent), so the stored
    urgency alone would put them last; unknown is not no, and an emergency goes first.
    """
    drafts = repository.drafts_by_patient(session, [r.patient.id for r in rows])
    out: list[Row] = []
    for row in rows:
        draft = drafts.get(row.patient.id)
        stop = None
        if draft is not None and (row.assessed_at is None or draft.updated_at > row.assessed_at):
            stop = emergency_stop(dict(draft.answers))
        out.append(Row(row, stop))
    return sorted(out, key=lambda r: r.stop is None)


def _patient_context(session: DbSession, patient: Patient, settings: AppSettings) -> dict[str, Any]:
    records = repository.list_assessments(session, patient)
    assessments = [(r, load_assessment(r)) for r in records]
    draft = repository.load_draft(session, patient)
    stop = emergency_stop(dict(draft.answers)) if draft is not None else None
    try:
        report = progress_report(session, patient, settings, clock.today())
    except InstrumentError:
        report = None
    return {
        "patient": patient,
        "assessments": list(reversed(assessments)),
        "latest": assessments[-1][1] if assessments else None,
        "draft": draft,
        "draft_stop": stop,
        "draft_errors": forms.validate(dict(draft.answers)).errors if draft else {},
        "report": report,
        "responses": repository.list_responses(session, patient),
        "decision": repository.latest_decision_aid_values(session, patient),
        "leaning_words": LEANING_WORDS,
        "notes": repository.list_notes(session, patient),
    }


@router.get(WORKLIST + "/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(
    request: Request,
    patient: ClinicPatient,
    user: CurrentClinician,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    context = {**_nav(user), **_patient_context(session, patient, settings), "errors": {}}
    return render(request, "clinic/patient.html", {**context, "note": ""})


@router.post(WORKLIST + "/patients/{patient_id}/notes", response_class=HTMLResponse)
def add_note(
    request: Request,
    patient: ClinicPatient,
    user: CurrentClinician,
    session: DbSession,
    settings: AppSettings,
    form: SubmittedForm,
) -> Response:
    text = str(form.get("text") or "").strip()
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = "Write the note before saving it."
    elif len(text) > NOTE_MAX_CHARS:
        errors["text"] = f"Use {NOTE_MAX_CHARS} characters or fewer."
    if errors:
        context = {**_nav(user), **_patient_context(session, patient, settings)}
        return render(
            request, "clinic/patient.html", {**context, "errors": errors, "note": text}, 422
        )
    repository.add_note(session, patient, user, text)
    return redirect(f"{WORKLIST}/patients/{patient.id}#notes")


@router.get(WORKLIST + "/patients/{patient_id}/progress.svg")
def patient_progress_chart(
    patient: ClinicPatient, user: CurrentClinician, session: DbSession, settings: AppSettings
) -> Response:
    return progress_svg(session, patient, settings)


@router.get(WORKLIST + "/invite", response_class=HTMLResponse)
def invite_page(request: Request, user: CurrentClinician) -> Response:
    return render(request, "clinic/invite.html", {**_nav(user), "errors": {}, "reference": ""})


@router.post(WORKLIST + "/invite", response_class=HTMLResponse)
def invite(
    request: Request,
    user: CurrentClinician,
    session: DbSession,
    settings: AppSettings,
    form: SubmittedForm,
) -> Response:
    reference = str(form.get("reference") or "").strip()
    if len(reference) > REFERENCE_MAX_CHARS:
        errors = {"reference": f"Use {REFERENCE_MAX_CHARS} characters or fewer."}
        context = {**_nav(user), "errors": errors, "reference": reference}
        return render(request, "clinic/invite.html", context, 422)
    if user.clinic_id is None:
        raise ValueError("user.clinic_id is missing")
    patient, link_token = repository.create_patient(
        session, user.clinic_id, reference=reference or None
    )
    audit(
        request,
        session,
        actor_kind=user.role,
        actor_id=user.id,
        patient=patient,
        action="invite",
    )
    context = {
        **_nav(user),
        "patient": patient,
        "link": absolute_link(request, settings, link_token),
    }
    return render(request, "clinic/invited.html", context)


@router.get(AUDIT, response_class=HTMLResponse)
def audit_log(
    request: Request,
    user: CurrentAdmin,
    session: DbSession,
    before: int | None = Query(default=None, ge=1, le=ROW_ID_MAX),
    patient: str | None = Query(default=None, max_length=32),
) -> Response:
    # An administrator who belongs to a clinic sees that clinic's events only.
    events = repository.list_audit(
        session,
        patient_id=patient or None,
        clinic_id=user.clinic_id,
        before_id=before,
        limit=100,
    )
    repository.record_audit(
        session,
        actor_kind="admin",
        actor_id=user.id,
        action="read_audit",
        patient_id=patient or None,
        clinic_id=user.clinic_id,
        route=f"GET {AUDIT}",
    )
    context = {
        **_nav(user),
        "events": events,
        "patient_filter": patient or "",
        "older": events[-1].id if len(events) == 100 else None,
    }
    return render(request, "clinic/audit.html", context)
