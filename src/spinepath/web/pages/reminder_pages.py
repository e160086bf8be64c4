"""Patients ask for e-mail reminders of follow-up questionnaires, and stop them.

The address is kept only with the consent the patient ticked (its wording is stored with it),
and the private link it carries is sealed (``care.sealing``).
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from spinepath.care import reminders
from spinepath.store.models import Patient
from spinepath.web.deps import AppSettings, DbSession, PatientFromLink, SubmittedForm, audit
from spinepath.web.pages.rendering import render
from spinepath.web.pages.shared import absolute_link, patient_url, redirect

router = APIRouter(include_in_schema=False)
EMAIL_MAX_CHARS = 320


def _page(
    request: Request,
    session: DbSession,
    patient: Patient,
    link_token: str,
    *,
    email: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    contact = reminders.contact_for(session, patient.id)
    active = contact is not None and contact.stopped_at is None
    context = {
        "active": active,
        "current": contact.email if active and contact is not None else None,
        "email": email,
        "errors": errors or {},
        "consent_text": reminders.CONSENT_TEXT,
        "action": patient_url(link_token, "reminders"),
        "stop_action": patient_url(link_token, "reminders", "stop"),
        "back": patient_url(link_token, "result") + "#follow-ups",
    }
    return render(request, "patient/reminders.html", context, status_code)


@router.get("/p/{link_token}/reminders", response_class=HTMLResponse)
def reminders_page(
    request: Request, link_token: str, patient: PatientFromLink, session: DbSession
) -> Response:
    return _page(request, session, patient, link_token)


@router.post("/p/{link_token}/reminders", response_class=HTMLResponse)
def reminders_on(
    request: Request,
    link_token: str,
    patient: PatientFromLink,
    session: DbSession,
    settings: AppSettings,
    form: SubmittedForm,
) -> Response:
    raw = str(form.get("email") or "").strip()
    errors: dict[str, str] = {}
    email = ""
    if not raw:
        errors["email"] = "Enter your e-mail address."
    elif len(raw) > EMAIL_MAX_CHARS:
        errors["email"] = f"Use {EMAIL_MAX_CHARS} characters or fewer."
    else:
        try:
            email = validate_email(raw, check_deliverability=False).normalized
        except EmailNotValidError:
            errors["email"] = "Enter an e-mail address like name@example.com."
    if form.get("consent") != "yes":
        errors["consent"] = "Tick the box to agree, or go back without reminders."
    if errors:
        return _page(
            request,
            session,
            patient,
            link_token,
            email=raw[:EMAIL_MAX_CHARS],
            errors=errors,
            status_code=422,
        )
    link = absolute_link(request, settings, link_token)
    reminders.save_contact(session, settings, patient, email, link)
    audit(
        request,
        session,
        actor_kind="patient",
        actor_id=patient.id,
        patient=patient,
        action="reminders_on",
    )
    return redirect(patient_url(link_token, "reminders") + "#status")


@router.post("/p/{link_token}/reminders/stop")
def reminders_off(
    request: Request, link_token: str, patient: PatientFromLink, session: DbSession
) -> Response:
    if reminders.stop(session, patient):
        audit(
            request,
            session,
            actor_kind="patient",
            actor_id=patient.id,
            patient=patient,
            action="reminders_off",
        )
    return redirect(patient_url(link_token, "reminders") + "#status")
