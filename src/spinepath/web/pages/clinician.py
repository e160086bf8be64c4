"""Clinician workspace: sign-in, the worklist, invitations, the audit log (a patient's own page
is in ``clinician_patient``).

A clinician only ever sees their own clinic's patients: ``ClinicPatient`` answers 404 for any
other patient, and the worklist is filtered by clinic in the query.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from spinepath.store import repository
from spinepath.store.models import ROW_ID_MAX, Clinic, User
from spinepath.web.auth import InvalidCredentialsError, LoginRateLimitedError, sign_in, sign_out
from spinepath.web.deps import (
    LOGIN_PATH,
    AppSettings,
    CurrentAdmin,
    CurrentClinician,
    DbSession,
    OptionalUser,
    SubmittedForm,
    audit,
)
from spinepath.web.pages import worklist as worklist_order
from spinepath.web.pages.qr import qr_svg
from spinepath.web.pages.rendering import render
from spinepath.web.pages.shared import absolute_link, redirect

router = APIRouter(include_in_schema=False)

WORKLIST = "/clinic"
AUDIT = "/admin/audit"
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
    everyone = worklist_order.ordered(session, user.clinic_id)
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


@router.get(WORKLIST + "/invite", response_class=HTMLResponse)
def invite_page(request: Request, user: CurrentClinician, session: DbSession) -> Response:
    context = {**_nav(user), "errors": {}, "reference": "", "clinic": _clinic(session, user)}
    return render(request, "clinic/invite.html", context)


def _clinic(session: Session, user: User) -> Clinic:
    """The user's clinic, named on the pages that say who will see a patient's answers."""
    clinic = session.get(Clinic, user.clinic_id)
    if clinic is None:
        raise ValueError("user.clinic_id names no clinic")
    return clinic


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
        context = {
            **_nav(user),
            "errors": errors,
            "reference": reference,
            "clinic": _clinic(session, user),
        }
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
    link = absolute_link(request, settings, link_token)
    context = {
        **_nav(user),
        "patient": patient,
        "link": link,
        "qr": qr_svg(link, "QR code of the patient's private link"),
        "clinic": _clinic(session, user),
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
